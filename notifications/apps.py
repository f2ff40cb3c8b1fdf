from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        # Imported here: services import the models, which load after this module.
        from notifications.models import Notification
        from notifications.services import notification_changed

        for signal in (post_save, post_delete):
            signal.connect(notification_changed, sender=Notification, dispatch_uid="unread_cache")
