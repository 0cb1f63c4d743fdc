from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutagesConfig(AppConfig):
    name = "outages"
    verbose_name = _("停电信息")

    def ready(self) -> None:
        # The public look-up cache follows outage changes (outages.api.public).
        from outages.api import public as public_api

        public_api.subscribe()

        # The public snapshot follows outage changes (throttled), and subscribers hear about
        # ETR changes and restorations (outages.publicmap.snapshot, outages.notifications).
        from outages import events, notifications
        from outages.publicmap import snapshot

        events.subscribe(events.OUTAGE_CHANGED, snapshot.on_outage_changed)
        events.subscribe(events.OUTAGE_ETR_CHANGED, notifications.on_etr_changed)
        events.subscribe(events.OUTAGE_RESTORED, notifications.on_restored)
        events.subscribe(events.OUTAGE_NOTICE_PUBLISHED, notifications.on_notice_published)
