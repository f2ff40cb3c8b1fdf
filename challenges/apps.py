from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChallengesConfig(AppConfig):
    name = "challenges"
    verbose_name = _("Challenges")

    def ready(self) -> None:
        from challenges import receivers
        from labs import signals

        signals.run_ended_signal.connect(receivers.run_ended_receive, dispatch_uid="challenges.run_ended")
        signals.run_notes_signal.connect(receivers.run_notes_receive, dispatch_uid="challenges.run_notes")
        signals.run_sealing_signal.connect(receivers.run_sealing_receive, dispatch_uid="challenges.run_sealing")
        signals.lab_notes_signal.connect(receivers.lab_notes_receive, dispatch_uid="challenges.lab_notes")
        signals.run_sharing_signal.connect(receivers.run_sharing_receive, dispatch_uid="challenges.run_sharing")
