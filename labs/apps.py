from django.apps import AppConfig
from django.db.models.signals import post_delete


class LabsConfig(AppConfig):
    name = "labs"

    def ready(self) -> None:
        # Imported here: apps.py loads before the models.
        from labs import file_cleanup, generations
        from labs.models import Run, Submission

        # Signals, not delete() methods: cascades (a submission's, a learner's) and bulk deletes send them.
        post_delete.connect(file_cleanup.run_deleted, sender=Run, dispatch_uid="labs.run_files_delete")
        post_delete.connect(file_cleanup.submission_deleted, sender=Submission, dispatch_uid="labs.submission_file")
        generations.connect()
