from django.apps import AppConfig


class CoachConfig(AppConfig):
    name = "coach"
    verbose_name = "Coach"

    def ready(self) -> None:
        from coach import generations  # imported here: apps.py loads before the models

        generations.connect()
