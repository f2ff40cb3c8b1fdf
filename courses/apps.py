from django.apps import AppConfig


class CoursesConfig(AppConfig):
    name = "courses"

    def ready(self) -> None:
        from courses import generations, receivers  # imported here: apps.py loads before the models

        generations.connect()
        receivers.connect()
