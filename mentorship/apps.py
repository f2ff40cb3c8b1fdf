from django.apps import AppConfig


class MentorshipConfig(AppConfig):
    name = "mentorship"

    def ready(self) -> None:
        from labs import signals
        from mentorship import generations, receivers

        signals.run_ended_signal.connect(receivers.run_ended_receive, dispatch_uid="mentorship.run_ended")
        generations.connect()
