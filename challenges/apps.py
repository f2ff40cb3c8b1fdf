from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChallengesConfig(AppConfig):
    name = "challenges"
    verbose_name = _("Challenges")

    def ready(self) -> None:
        from challenges.receivers import run_ended_receive
        from labs.signals import run_ended_signal

        run_ended_signal.connect(run_ended_receive, dispatch_uid="challenges.run_ended")
