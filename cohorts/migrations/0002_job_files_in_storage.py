"""Background jobs keep their input and result as files in the storage (core.storage: the disk, or
the object store in server and cluster modes), no longer as text in the database."""

from django.core.files.base import ContentFile
from django.db import migrations, models


def texts_to_files(apps, schema_editor):
    Job = apps.get_model("cohorts", "Job")
    for job in Job.objects.exclude(input_text="", result_text="").iterator():
        if job.input_text:
            job.input_file.save("roster.csv", ContentFile(job.input_text.encode("utf-8")), save=False)
        if job.result_text:
            name = job.result_name or f"job-{job.pk}.csv"
            job.result_file.save(name, ContentFile(job.result_text.encode("utf-8")), save=False)
        job.save(update_fields=["input_file", "result_file"])


def files_to_texts(apps, schema_editor):
    Job = apps.get_model("cohorts", "Job")
    for job in Job.objects.exclude(input_file="", result_file="").iterator():
        for field, text in (("input_file", "input_text"), ("result_file", "result_text")):
            stored = getattr(job, field)
            if stored:
                with stored.open("rb") as handle:
                    setattr(job, text, handle.read().decode("utf-8"))
        job.save(update_fields=["input_text", "result_text"])


class Migration(migrations.Migration):
    dependencies = [
        ("cohorts", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="job",
            name="input_file",
            field=models.FileField(blank=True, help_text="the uploaded file (UTF-8)", upload_to="jobs/input/%Y/%m/"),
        ),
        migrations.AddField(
            model_name="job",
            name="result_file",
            field=models.FileField(
                blank=True, help_text="the downloadable result (CSV, UTF-8)", upload_to="jobs/result/%Y/%m/"
            ),
        ),
        migrations.RunPython(texts_to_files, files_to_texts),
        migrations.RemoveField(model_name="job", name="input_text"),
        migrations.RemoveField(model_name="job", name="result_text"),
        migrations.AlterField(
            model_name="job",
            name="input_name",
            field=models.CharField(blank=True, help_text="the uploaded file's name, as sent", max_length=255),
        ),
    ]
