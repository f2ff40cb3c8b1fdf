from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_roles(sender: AppConfig, **kwargs: object) -> None:
    # Imported when called: apps.py loads before the models, which core.services imports (no cycle).
    from core.services import roles_sync

    roles_sync()


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Platform"

    def ready(self) -> None:
        # Permissions exist only after post_migrate, so the role groups are synced then.
        post_migrate.connect(_sync_roles, sender=self)
        from core.auth_backend import connect_invalidation  # here: it imports the models

        connect_invalidation()  # cached users and permissions follow every change
