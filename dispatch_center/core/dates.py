"""Timestamps as the APIs and feeds send them."""

from datetime import datetime

from django.utils import timezone


def iso(value: datetime | None, *, local: bool = True) -> str | None:
    """ISO 8601 text of an aware ``value`` (None stays None): in the local time zone
    (Asia/Shanghai, ``+08:00``), or with ``local=False`` in the zone it carries."""
    if value is None:
        return None
    return (timezone.localtime(value) if local else value).isoformat()
