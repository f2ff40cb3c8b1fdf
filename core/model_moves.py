"""For migrations that move a model from one app to another (Step 8: cohorts, notifications, grading).

A model that changes app keeps its content type row (renamed to the new app), so the permissions and
the admin history that point at it stay attached. Works both ways, and does nothing to a database
where the new app already has its content type (one created after the move)."""

from __future__ import annotations

from typing import Any

from django.db import migrations


def content_types_follow(app_from: str, app_to: str, models: tuple[str, ...]) -> migrations.RunPython:
    def rename(apps: Any, old_label: str, new_label: str) -> None:
        content_type = apps.get_model("contenttypes", "ContentType")
        for model in models:
            if not content_type.objects.filter(app_label=new_label, model=model).exists():
                content_type.objects.filter(app_label=old_label, model=model).update(app_label=new_label)

    return migrations.RunPython(
        lambda apps, schema_editor: rename(apps, app_from, app_to),
        lambda apps, schema_editor: rename(apps, app_to, app_from),
    )
