from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.bilingual import bilingual
from labs.lab_spec import DEFAULT_ARTIFACT_MAX_MB


class Metric(models.TextChoices):
    """What scores a lab (``labs.scoring.METRICS``, plus a lab's own ``score.py``)."""

    ACCURACY = "accuracy", _("accuracy")
    TOP_K_ACCURACY = "top_k_accuracy", _("top-k accuracy")
    MACRO_F1 = "macro_f1", _("macro-F1")
    PRECISION = "precision", _("precision")
    RECALL = "recall", _("recall")
    ROC_AUC = "roc_auc", _("ROC AUC")
    LOG_LOSS = "log_loss", _("log-loss")
    MSE = "mse", _("mean squared error")
    MAE = "mae", _("mean absolute error")
    R2 = "r2", _("R²")
    EXACT_MATCH = "exact_match", _("exact match")
    PERPLEXITY = "perplexity", _("perplexity")
    CUSTOM = "custom", _("the lab's own scoring program")


class DeviceClass(models.TextChoices):
    CPU = "cpu", _("CPU")
    GPU = "gpu", _("GPU")


class Dataset(models.Model):
    """One version of a lab's data. The public file (features, training labels) goes to
    workers; the test labels live only here, in the site's database."""

    lab = models.ForeignKey("Lab", on_delete=models.CASCADE, related_name="datasets")
    version = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64, unique=True)
    file_name = models.CharField(max_length=200, help_text="file under DATASET_STORAGE_DIR")
    test_labels = models.BinaryField(help_text="hidden labels, .npy bytes; never leaves the site")
    n_train = models.PositiveIntegerField()
    n_test = models.PositiveIntegerField()
    feature_shape = models.JSONField(help_text="shape of one row of x")
    num_classes = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["lab", "version"], name="dataset_version_unique")]
        ordering = ["lab", "-version"]

    def __str__(self) -> str:
        return f"{self.lab.slug} v{self.version}"


class Lab(models.Model):
    class HiddenData(models.TextChoices):
        """Where the hidden test rows come from (``[data] hidden`` of the lab's folder, set at import)."""

        PUBLIC = "public", _("practice on public data")  # found outside the platform too
        SECRET = "secret", _("fit for ranking")  # a secret seed's, or the author's own: only on the platform

    slug = models.SlugField(unique=True)
    title_en = models.CharField(max_length=200)
    title_zh = models.CharField(max_length=200, blank=True)
    description_en = models.TextField(help_text="Markdown")
    description_zh = models.TextField(blank=True, help_text="Markdown")
    starter_code = models.TextField()
    reference_solution = models.TextField(blank=True, help_text="never shown to learners")
    params = models.JSONField(default=dict, blank=True, help_text='{"lr": {"default": 0.01, "min": 1e-5, "max": 1}}')
    metric = models.CharField(max_length=20, choices=Metric.choices)
    metric_options = models.JSONField(default=dict, blank=True, help_text='the metric\'s options, e.g. {"k": 5}')
    scoring_code = models.TextField(blank=True, help_text="score.py of a custom metric; runs in the sandbox")
    scoring_problem = models.TextField(blank=True, help_text="the last failure of score.py (for administrators)")
    higher_is_better = models.BooleanField(default=True)
    threshold = models.FloatField()
    device_class = models.CharField(max_length=10, choices=DeviceClass.choices, default=DeviceClass.CPU)
    wall_seconds = models.PositiveIntegerField(default=120)
    memory_mb = models.PositiveIntegerField(default=2048)
    processes = models.PositiveIntegerField(default=64)
    output_bytes = models.PositiveIntegerField(default=1_000_000)
    disk_mb = models.PositiveIntegerField(default=256)
    artifact_max_mb = models.PositiveIntegerField(
        default=DEFAULT_ARTIFACT_MAX_MB, help_text="the largest trained weights a run keeps (MB); 0: keep none"
    )
    submissions_per_day = models.PositiveIntegerField(default=30)
    published = models.BooleanField(
        default=False, help_text="learners see it; only with a dataset, after its reference solution passed"
    )
    publish_requested = models.BooleanField(default=False, help_text="publish when the reference run passes")
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    reference_run = models.ForeignKey(
        "Run", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", help_text="the reference's last run"
    )
    hidden_data = models.CharField(
        max_length=10,
        choices=HiddenData.choices,
        default=HiddenData.PUBLIC,
        help_text="whether the hidden test rows exist only on the platform; set at import from [data] hidden",
    )
    skills = models.ManyToManyField("skills.Skill", blank=True, related_name="labs")
    hidden_seed = models.BigIntegerField(
        null=True, blank=True, editable=False, help_text="secret: the seed of a secret-seeded lab's hidden rows"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(published=False) | models.Q(dataset__isnull=False),
                name="lab_published_has_dataset",
                violation_error_message=_("A lab can be published only with a dataset."),
            )
        ]

    def __str__(self) -> str:
        return self.slug

    def get_absolute_url(self) -> str:
        return reverse("labs:detail", args=[self.slug])

    @property
    def title(self) -> str:
        return bilingual(self.title_en, self.title_zh)

    @property
    def description(self) -> str:
        return bilingual(self.description_en, self.description_zh)

    @property
    def fit_for_ranking(self) -> bool:
        """Whether scores here can rank a challenge: the hidden test rows exist only on the platform."""
        return self.hidden_data == self.HiddenData.SECRET

    def passes(self, score: float) -> bool:
        return score >= self.threshold if self.higher_is_better else score <= self.threshold


class Submission(models.Model):
    class Source(models.TextChoices):
        WEB = "web", _("browser")
        API = "api", _("API")
        CLI = "cli", _("command line")
        REFERENCE = "reference", _("reference solution")

    class Kind(models.TextChoices):
        PY = "py", _("Python file")
        IPYNB = "ipynb", _("notebook")

    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="submissions")
    lab = models.ForeignKey(Lab, on_delete=models.PROTECT, related_name="submissions")
    code = models.TextField(help_text="the Python source that runs (a notebook's code cells)")
    code_sha256 = models.CharField(max_length=64)
    original_file = models.FileField(upload_to="submissions/%Y/%m/", blank=True)
    original_name = models.CharField(max_length=255, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PY)
    params = models.JSONField(default=dict, blank=True)
    save_weights = models.BooleanField(
        default=True, help_text="keep the trained weights (the reserved parameter save_weights=false opts out)"
    )
    notes = models.JSONField(default=list, blank=True, help_text="what conversion dropped, e.g. notebook magics")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["learner", "lab", "created_at"])]

    def __str__(self) -> str:
        return f"{self.lab.slug} #{self.pk} by {self.learner}"


class RunState(models.TextChoices):
    QUEUED = "queued", _("queued")
    PREPARING = "preparing", _("preparing")
    RUNNING = "running", _("running")
    SCORING = "scoring", _("scoring")
    # Ended and scored. Whether it passed is the run's verdict (``passed``), not its state: "finished",
    # not "succeeded", beside a "not passed". The context keeps it apart from a course's "finished".
    SUCCEEDED = "succeeded", pgettext_lazy("run state", "finished")
    FAILED = "failed", _("failed")
    TIMED_OUT = "timed_out", _("timed out")
    CANCELLED = "cancelled", _("cancelled")


FINAL_STATES = (RunState.SUCCEEDED, RunState.FAILED, RunState.TIMED_OUT, RunState.CANCELLED)
ACTIVE_STATES = (RunState.QUEUED, RunState.PREPARING, RunState.RUNNING, RunState.SCORING)


def new_token() -> str:
    return uuid.uuid4().hex


class Run(models.Model):
    """One execution of a submission. A re-run is a new Run; a retry after a platform
    failure is a new attempt (new token) of the same Run."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="runs")
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="runs")
    state = models.CharField(max_length=12, choices=RunState.choices, default=RunState.QUEUED)
    reason = models.CharField(max_length=500, blank=True)
    token = models.CharField(max_length=32, default=new_token, help_text="the current attempt's claim token")
    attempt = models.PositiveSmallIntegerField(default=1)
    cancel_requested = models.BooleanField(default=False)
    queued_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True, help_text="when the job message reached the broker")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    worker_host = models.CharField(max_length=200, blank=True)
    device = models.CharField(max_length=20, blank=True)
    torch_version = models.CharField(max_length=40, blank=True)
    sandbox = models.CharField(max_length=80, blank=True)
    seed = models.BigIntegerField()
    code_sha256 = models.CharField(max_length=64)
    curve = models.JSONField(default=list, blank=True, help_text="[{step, t, metrics}] from run.log")
    log = models.TextField(blank=True, help_text="output tail, truncated")
    predictions = models.JSONField(null=True, blank=True)
    score = models.FloatField(null=True, blank=True)
    passed = models.BooleanField(null=True, blank=True)
    # A challenge entry's score on the whole hidden set would tell its private part: such a run is
    # scored into ``sealed_score`` and shows no score (nor a verdict) until a challenge unseals it
    # (``labs.services.runs_unseal``). Labs knows nothing of challenges; it only keeps the seal.
    sealed = models.BooleanField(
        default=False, help_text="the score on the hidden set is withheld until a challenge reveals it"
    )
    sealed_score = models.FloatField(null=True, blank=True, help_text="the withheld score of a sealed run")
    by_platform = models.BooleanField(
        default=False, help_text="started by the platform (a challenge's re-run): outside the learner's quota"
    )
    artifacts = models.JSONField(
        default=dict, blank=True, help_text='files the attempt stored: {"weights"|"log": {name, size, sha256}}'
    )
    diagnosis = models.JSONField(
        null=True,
        blank=True,
        help_text="the coach's findings when the run ended (labs.diagnosis): [{code, evidence}]; null: not read yet",
    )

    class Meta:
        ordering = ["-queued_at"]
        indexes = [
            models.Index(fields=["state", "updated_at"]),
            models.Index(fields=["submission", "queued_at"]),
            # The minute's sealed_runs_sweep asks for sealed runs only: a few rows among millions.
            models.Index(fields=["sealed"], condition=models.Q(sealed=True), name="labs_run_sealed_only"),
        ]

    def __str__(self) -> str:
        return f"run {self.pk} ({self.state})"

    def get_absolute_url(self) -> str:
        return reverse("labs:run", args=[self.pk])

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def is_waiting(self) -> bool:
        """Queued on the site, not yet sent: fair share (labs.dispatch) holds it for its turn."""
        return self.state == RunState.QUEUED and self.sent_at is None

    @property
    def lab(self) -> Lab:
        return self.submission.lab

    def downloads(self, *, api: bool = False) -> dict[str, str | None]:
        """Where this run's files are downloaded (its pages', or the API's with ``api``), None for one it
        has not: the weights and the log once stored (``labs.artifacts``), the metrics once it has a curve."""
        present = {"weights": "weights" in self.artifacts, "log": "log" in self.artifacts, "metrics": bool(self.curve)}
        return {
            kind: reverse(f"api:run-{kind}" if api else f"labs:run_{kind}", args=[self.pk]) if here else None
            for kind, here in present.items()
        }

    @property
    def api_downloads(self) -> dict[str, str | None]:
        return self.downloads(api=True)
