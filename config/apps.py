from django.apps import AppConfig


class SiteConfig(AppConfig):
    """``config`` is an app only for its management commands (run_platform, seed_demo,
    generate_scale_data); it has no models."""

    name = "config"
    label = "site_config"
