from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from labs.models import Dataset, Lab, Run, Submission


@admin.register(Lab)
class LabAdmin(admin.ModelAdmin):
    """Publishing without a dataset is a form error, not a 500: the form validates the model's
    constraint ``lab_published_has_dataset``. Uploads and the reference run are on the authoring page."""

    list_display = (
        "slug",
        "title_en",
        "title_zh",
        "metric",
        "threshold",
        "device_class",
        "published",
        "hidden_data",
        "authoring",
    )
    list_filter = ("published", "hidden_data", "device_class", "metric")
    search_fields = ("slug", "title_en", "title_zh")
    raw_id_fields = ("dataset", "reference_run")
    filter_horizontal = ("skills",)
    readonly_fields = ("authoring", "hidden_data")  # hidden_data: the lab folder's [data] hidden, at import

    @admin.display(description=_("authoring page"))
    def authoring(self, lab: Lab) -> str:
        if lab.pk is None:
            return "—"
        return format_html('<a href="{}">{}</a>', reverse("labs:authoring_lab", args=[lab.slug]), _("Lab authoring"))


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ("__str__", "n_train", "n_test", "sha256", "created_at")
    list_filter = ("lab",)
    exclude = ("test_labels",)  # hidden labels stay out of pages, admin included
    readonly_fields = ("lab", "version", "sha256", "file_name", "n_train", "n_test", "feature_shape", "num_classes")

    # A dataset is made from a lab's data (`import_lab`, the demo labs), never typed in: the form
    # could not fill its counts and answered 500 on save. Here datasets are for reading.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Dataset | None = None) -> bool:
        return False


class RunInline(admin.TabularInline):
    model = Run
    extra = 0
    fields = ("state", "reason", "score", "passed", "queued_at")
    readonly_fields = fields
    show_change_link = True


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ("__str__", "learner", "lab", "source", "kind", "created_at")
    list_filter = ("lab", "source", "kind")
    search_fields = ("learner__username", "lab__slug")
    list_select_related = ("learner", "lab")
    raw_id_fields = ("learner",)
    inlines = [RunInline]


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    list_display = ("pk", "submission", "state", "score", "passed", "device", "queued_at", "finished_at")
    list_filter = ("state", "submission__lab", "device")
    search_fields = ("submission__learner__username", "worker_host")
    list_select_related = ("submission__lab", "submission__learner")
    raw_id_fields = ("submission", "dataset")
    exclude = ("predictions",)
