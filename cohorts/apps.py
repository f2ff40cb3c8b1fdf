from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CohortsConfig(AppConfig):
    name = "cohorts"
    verbose_name = _("Cohorts")

    def ready(self) -> None:
        from cohorts import generations  # imported here: apps.py loads before the models

        generations.connect()
