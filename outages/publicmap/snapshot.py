"""The public map's snapshot, wired to real outages: the selector, the publish service, the hook.

``snapshot_outages`` reads the active outages as ``PublicOutage`` rows (public fields only);
``snapshot_publish`` turns them into the files of ``outages.publicmap.publishing.snapshot_files``
plus ``districts.json`` and publishes them as a new version in ``SNAPSHOT_DIR``.

``on_outage_changed`` (subscribed to ``outage.changed`` in ``OutagesConfig.ready()``) keeps the
map fresh without letting a storm of changes rebuild it on every one: through the throttle of
``outages.publicmap.publishing`` it publishes at once after a quiet period and schedules exactly one
deferred publish for the end of each ``SNAPSHOT_MIN_INTERVAL`` window that saw more changes.
A beat entry (``outages.snapshot_publish`` every few minutes) is the safety net for a lost
task and keeps ``generated_at`` fresh when nothing changes. In the embedded demo, where tasks
run eagerly, the deferred publish runs at once (there is no beat to catch up later), so the
map follows every change; ``SNAPSHOT_AUTO_PUBLISH`` turns the trigger off (the test settings).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import timezone

from dispatch_center.core.dates import iso
from outages.models import Outage
from outages.providers import work_progress
from outages.publicmap.publishing import PublicOutage, publish_snapshot, snapshot_files

if TYPE_CHECKING:
    from outages.events import DomainEvent

logger = logging.getLogger(__name__)

THROTTLE_KEY = "outages-snapshot"
# An outage of fewer customers than this is shown as a point rounded to ~100 m, never as an
# area: the outline around one or two premises would point at a household.
PRIVATE_BELOW_CUSTOMERS = 3
PRIVATE_DECIMALS = 3
# How far ahead the map's planned-outage layer looks.
PLANNED_DAYS = 14


def snapshot_outages() -> list[PublicOutage]:
    """The active outages (customers out now) as the public snapshot shows them, by id.

    Public fields only: type, category, status, cause, times, customer count, district code, the
    simplified area and a label point inside it, and the crew's coarse state from the work-orders
    app (``outages.providers.work_progress``; ``None`` when none is known). Nothing about any
    customer: small outages lose their area (see ``PRIVATE_BELOW_CUSTOMERS``). Outages with no
    location at all are left out (they cannot be drawn). Two queries plus the crew provider's.
    """
    rows = list(
        Outage.objects.filter(status__in=Outage.ACTIVE)
        .select_related("type__category", "cause", "district", "device")
        .order_by("pk")
    )
    crews = work_progress.crew_statuses([o.pk for o in rows])
    result: list[PublicOutage] = []
    for outage in rows:
        point = _label_point(outage)
        if point is None:
            logger.warning("Outage %s has no location; left off the public map", outage.pk)
            continue
        geometry = outage.area if isinstance(outage.area, dict) else None
        lat, lng = point
        if outage.customers_affected < PRIVATE_BELOW_CUSTOMERS:
            geometry = None
            lat, lng = round(lat, PRIVATE_DECIMALS), round(lng, PRIVATE_DECIMALS)
        cause = outage.cause
        result.append(
            PublicOutage(
                id=outage.pk,
                category=outage.type.category.code,
                type=outage.type.code,
                type_name=outage.type.name,
                type_name_en=outage.type.name_en,
                status=outage.status,
                cause=cause.code if cause else None,
                cause_name=cause.name if cause else None,
                cause_name_en=cause.name_en if cause else None,
                started_at=outage.started_at,
                etr=outage.etr,
                customers_affected=outage.customers_out or outage.customers_affected,
                district=outage.district.code if outage.district else None,
                crew_status=crews.get(outage.pk),
                lat=lat,
                lng=lng,
                geometry=geometry,
            )
        )
    return result


def _label_point(outage: Outage) -> tuple[float, float] | None:
    """A point inside the outage's area, else its device, else its district's centre."""
    area = outage.area
    if isinstance(area, dict) and area.get("coordinates"):
        from shapely.geometry import shape

        try:
            inside = shape(area).representative_point()
        except (ValueError, TypeError, AttributeError):
            logger.warning("Outage %s has an unreadable area", outage.pk)
        else:
            return inside.y, inside.x
    device = outage.device
    if device.lat is not None and device.lng is not None:
        return device.lat, device.lng
    district = outage.district
    if district is not None and district.center_lat is not None and district.center_lng is not None:
        return district.center_lat, district.center_lng
    return None


def snapshot_planned(*, now: datetime, days: int = PLANNED_DAYS) -> dict[str, Any]:
    """``planned.geojson``: planned outages whose notice is out and that start within ``days``
    days (not yet started: those under way are in ``outages.geojson``), soonest first.

    Each feature has the outage's area (a Point at its label point without one, rounded like
    ``PRIVATE_BELOW_CUSTOMERS`` outages) and the public properties ``id``, ``category``,
    ``type`` (code), ``type_name``/``type_name_en``, ``starts_at``, ``ends_at``, ``reason``
    (the public description, or the type's name), ``customers_affected``, ``district``,
    ``lat``, ``lng``.
    """
    rows = (
        Outage.objects.filter(
            status=Outage.Status.NOTIFIED,
            planned_start_at__gt=now,
            planned_start_at__lte=now + timedelta(days=days),
        )
        .select_related("type__category", "district", "device")
        .order_by("planned_start_at", "pk")
    )
    features = []
    for outage in rows:
        point = _label_point(outage)
        if point is None:
            continue
        lat, lng = point
        geometry = outage.area if isinstance(outage.area, dict) else None
        if geometry is None or outage.customers_affected < PRIVATE_BELOW_CUSTOMERS:
            geometry = None
            lat, lng = round(lat, PRIVATE_DECIMALS), round(lng, PRIVATE_DECIMALS)
        features.append(
            {
                "type": "Feature",
                "id": outage.pk,
                "geometry": geometry or {"type": "Point", "coordinates": [lng, lat]},
                "properties": {
                    "id": outage.pk,
                    "category": outage.type.category.code,
                    "type": outage.type.code,
                    "type_name": outage.type.name,
                    "type_name_en": outage.type.name_en or outage.type.name,
                    "starts_at": iso(outage.planned_start_at),
                    "ends_at": iso(outage.planned_end_at),
                    "reason": outage.description or outage.type.name,
                    "customers_affected": outage.customers_affected,
                    "district": outage.district.code if outage.district else None,
                    "lat": lat,
                    "lng": lng,
                },
            }
        )
    return {"type": "FeatureCollection", "generated_at": iso(now), "features": features}


def snapshot_publish(*, now: datetime | None = None) -> int:
    """Publish the current public picture as a new snapshot version; returns the version.

    Files: ``summary.json``, ``outages.geojson`` (see
    ``outages.publicmap.publishing.snapshot_files``), ``districts.json`` (the per-district counts
    alone, for clients that need only them) and ``planned.geojson`` (``snapshot_planned``),
    written atomically into ``SNAPSHOT_DIR`` with
    ``current.json`` pointing at them; the newest ``SNAPSHOT_KEEP`` versions are kept. Reads only;
    safe to run twice (the second run publishes the same picture under the next version).
    """
    generated_at = now or timezone.now()
    files: dict[str, Any] = dict(
        snapshot_files(outages=snapshot_outages(), generated_at=generated_at)
    )
    summary = files["summary.json"]
    files["districts.json"] = {
        "generated_at": summary["generated_at"],
        "districts": summary["by_district"],
    }
    files["planned.geojson"] = snapshot_planned(now=generated_at)
    version = publish_snapshot(
        files,
        directory=settings.SNAPSHOT_DIR,
        keep=settings.SNAPSHOT_KEEP,
        generated_at=generated_at,
    )
    logger.info("Published snapshot v%s: %s active outages", version, summary["active_outages"])
    return version


def on_outage_changed(event: DomainEvent) -> None:
    """Subscriber of ``outage.changed``: publish now, or schedule the window's one deferred
    publish, or nothing (one is already due). Runs after the change committed."""
    if not getattr(settings, "SNAPSHOT_AUTO_PUBLISH", True):
        return
    from dispatch_center.core.tasks import enqueue_on_commit
    from outages.publicmap.publishing import should_publish_now
    from outages.tasks.snapshot import snapshot_publish_task

    decision = should_publish_now(THROTTLE_KEY, interval=settings.SNAPSHOT_MIN_INTERVAL)
    if decision.publish_now:
        enqueue_on_commit(snapshot_publish_task)
    elif decision.schedule_in is not None:
        enqueue_on_commit(
            snapshot_publish_task, kwargs={"deferred": True}, countdown=decision.schedule_in
        )
