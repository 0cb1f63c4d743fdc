from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Shared code: abstract models, exceptions, API helpers and the role groups."""

    name = "dispatch_center.core"
    label = "core"
    verbose_name = "Core"
