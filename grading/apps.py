from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GradingConfig(AppConfig):
    name = "grading"
    verbose_name = _("Grades")

    def ready(self) -> None:
        from grading import generations  # imported here: apps.py loads before the models

        generations.connect()
