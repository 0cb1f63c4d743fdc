"""Reads for raising work orders (``workorders.services.raising``)."""

from __future__ import annotations

from datetime import datetime

from outages.models import Interruption

# --- for raising work orders (read by ``workorders.services.raising``) ----------------------
# Imports stay inside these functions so the group can move as one block.


def outage_customers_centre(*, outage_id: int) -> tuple[float | None, float | None]:
    """The middle (mean latitude, longitude) of the outage's interrupted customers, or
    (None, None) when it has none located."""
    from django.db.models import Avg

    avg = Interruption.objects.filter(outage_id=outage_id).aggregate(
        lat=Avg("service_point__lat"), lng=Avg("service_point__lng")
    )
    return avg["lat"], avg["lng"]


def outage_first_report_at(*, outage_id: int) -> datetime | None:
    """When the first trouble call of the outage came in (None without calls)."""
    from django.db.models import Min

    from outages.models import TroubleReport

    first = TroubleReport.objects.filter(outage_id=outage_id).aggregate(at=Min("received_at"))
    return first["at"]


def outage_type_default_priority(*, code: str) -> int | None:
    """The default priority of the outage type ``code`` (None when there is no such type)."""
    from outages.models import OutageType

    return OutageType.objects.filter(code=code).values_list("default_priority", flat=True).first()
