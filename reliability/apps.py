from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReliabilityConfig(AppConfig):
    name = "reliability"
    verbose_name = _("供电可靠性")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Restorations start the incremental frequent-outage check (reliability.subscribers).
        from outages import events
        from reliability import subscribers

        events.subscribe(events.OUTAGE_RESTORED, subscribers.on_restoration)
        events.subscribe(events.OUTAGE_CUSTOMERS_CHANGED, subscribers.on_restoration)
