from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChallengesConfig(AppConfig):
    name = "challenges"
    verbose_name = _("Challenges")

    def ready(self) -> None:
        from challenges.receivers import lab_notes_receive, run_ended_receive, run_notes_receive, run_sealing_receive
        from labs.signals import lab_notes_signal, run_ended_signal, run_notes_signal, run_sealing_signal

        run_ended_signal.connect(run_ended_receive, dispatch_uid="challenges.run_ended")
        run_notes_signal.connect(run_notes_receive, dispatch_uid="challenges.run_notes")
        run_sealing_signal.connect(run_sealing_receive, dispatch_uid="challenges.run_sealing")
        lab_notes_signal.connect(lab_notes_receive, dispatch_uid="challenges.lab_notes")
