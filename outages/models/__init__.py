"""Models of the outages app, one module per concern; import them from here.

- ``outages``: the information pool: taxonomy (``Priority``, ``OutageCategory``, ``OutageType``,
  ``OutageCause``), ``Outage``, its timeline (``OutageEvent``, ``EtrChange``) and per-customer
  ``Interruption`` rows.
- ``reports``: ``TroubleReport`` (calls), ``ScadaEvent`` (telemetry), ``CallLog`` (the hotline).
- ``subscriptions``: ``Subscription`` and the ``Notification`` outbox.
"""

from outages.models.outages import (
    EtrChange,
    Interruption,
    Outage,
    OutageCategory,
    OutageCause,
    OutageEvent,
    OutageType,
    Priority,
)
from outages.models.reports import CallLog, ScadaEvent, TroubleReport
from outages.models.subscriptions import Notification, Subscription

__all__ = [
    "CallLog",
    "EtrChange",
    "Interruption",
    "Notification",
    "Outage",
    "OutageCategory",
    "OutageCause",
    "OutageEvent",
    "OutageType",
    "Priority",
    "ScadaEvent",
    "Subscription",
    "TroubleReport",
]
