"""The one place that says whether a customer is a frequent-outage customer.

The ``reliability`` app (frequent-outage monitoring) owns that status. While it is not
installed, or offers no status function, the status is derived here from the outages app's
interruption records with the headline rule of the Guangdong practice: more than 5 sustained
interruptions this calendar year is "frequent", 4–5 is "warning". Switching to the reliability
app's own answer needs no change elsewhere: every caller (risk flags, similar-customer
features) goes through ``frequent_level`` / ``frequent_levels``.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.utils import timezone

from outages import selectors as outage_selectors

NORMAL, WARNING, FREQUENT = 0, 1, 2
LEVEL_NAMES = {"normal": NORMAL, "warning": WARNING, "frequent": FREQUENT}
FREQUENT_ABOVE = 5  # interruptions this year
WARNING_FROM = 4

# Names the reliability app's selectors may offer, tried in order: one service point's
# status (a level name, a dict with "level" or an object with ``.level``). ``customer_status``
# applies the frequent-outage policy the admin keeps (reliability.FrequentOutagePolicy).
_RELIABILITY_FUNCTIONS = ("customer_status", "service_point_frequent_status")


def _reliability_function() -> Any | None:
    try:
        module = importlib.import_module("reliability.selectors")
    except ImportError:
        return None
    for name in _RELIABILITY_FUNCTIONS:
        fn = getattr(module, name, None)
        if callable(fn):
            return fn
    return None


def _as_level(value: Any) -> int:
    if value is None:
        return NORMAL
    if isinstance(value, dict):
        value = value.get("level")
    elif not isinstance(value, str | int):
        value = getattr(value, "level", None)
    if isinstance(value, int):
        return max(NORMAL, min(FREQUENT, value))
    return LEVEL_NAMES.get(str(value or "").lower(), NORMAL)


def level_from_count(count: int) -> int:
    """The fallback rule: > 5 this year frequent, 4–5 warning."""
    if count > FREQUENT_ABOVE:
        return FREQUENT
    if count >= WARNING_FROM:
        return WARNING
    return NORMAL


def year_start(now: datetime | None = None) -> datetime:
    now = timezone.localtime(now or timezone.now())
    return now.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)


def frequent_level(*, service_point_id: int, now: datetime | None = None) -> int:
    """0 normal, 1 warning, 2 frequent for one service point."""
    fn = _reliability_function()
    if fn is not None:
        try:
            return _as_level(fn(service_point_id=service_point_id))
        except (TypeError, ValueError, LookupError):
            pass  # an unexpected signature: fall back to our own count
    count = outage_selectors.complaint_sustained_interruptions_since(
        service_point_id=service_point_id, since=year_start(now)
    )
    return level_from_count(count)


def frequent_levels(
    *, service_point_ids: Iterable[int], year_counts: dict[int, float]
) -> dict[int, int]:
    """Levels for many service points at once (the similar-customer index). Uses the
    reliability app's open alerts (one query, as its last scan left them) when it is
    installed, else ``year_counts`` (interruptions this year)."""
    try:
        module = importlib.import_module("reliability.selectors")
    except ImportError:
        module = None
    bulk = getattr(module, "open_alert_levels", None)
    if callable(bulk):
        open_levels = bulk()
        return {sp_id: _as_level(open_levels.get(sp_id)) for sp_id in service_point_ids}
    return {sp_id: level_from_count(int(year_counts.get(sp_id, 0))) for sp_id in service_point_ids}
