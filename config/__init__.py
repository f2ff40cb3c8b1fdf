"""The site's configuration: settings, URLs, WSGI/ASGI, its Celery app, the launcher and demo data.

The Celery app is created here, as Django starts, so that ``shared_task`` and ``celery.current_app``
in the apps find it (the pattern of cookiecutter-django's ``config/__init__.py``)."""

from config.celery_app import app as celery_app

__all__ = ["celery_app"]
