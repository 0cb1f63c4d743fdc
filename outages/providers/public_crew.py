"""The crew on an outage as the public may see it: a hook that a higher app fills in.

Crews and their work orders live in ``workorders``, which ``outages`` may not import. The
public answers (``outages.api.public``) still show "a crew is on its way / on site" with a
coarse position, so the higher app registers a provider in its ``AppConfig.ready()``::

    from outages.providers import public_crew

    public_crew.register(crew_for_outage)  # a PublicCrewProvider

Until a provider is registered every outage answers ``None``. Whatever a provider returns,
the position is rounded here to ``DECIMALS`` decimal places (about 1 km at Shenzhen's
latitude), so an exact crew position can never reach a public answer by mistake; a provider
may also hand out a delayed position (``DESIGN.md``: rounded or delayed).
"""

from __future__ import annotations

import logging
from typing import Any, Protocol, TypedDict

logger = logging.getLogger(__name__)

DECIMALS = 2


class PublicCrew(TypedDict):
    """The crew on an outage: its public state code (``outages.views.public.CREW_STATUS_LABELS``)
    and its last position in WGS-84 (``None`` when unknown)."""

    status: str
    lat: float | None
    lng: float | None


class PublicCrewProvider(Protocol):
    """Answers the crew working on one outage as ``PublicCrew``, or None without one.

    The position may be exact: ``crew_for_outage`` coarsens it before any public answer.
    Reads only.
    """

    def __call__(self, outage_id: int, /) -> PublicCrew | None: ...


_providers: list[PublicCrewProvider] = []


def register(provider: PublicCrewProvider) -> None:
    """Add ``provider`` (called with an outage id). Registering it twice is a no-op."""
    if provider not in _providers:
        _providers.append(provider)


def unregister(provider: PublicCrewProvider) -> None:
    """Remove ``provider`` (tests use it to clean up)."""
    if provider in _providers:
        _providers.remove(provider)


def crew_for_outage(outage_id: int) -> PublicCrew | None:
    """``{"status", "lat", "lng"}`` of the crew working on ``outage_id``, coarsened; or None.

    The first provider with an answer wins. A failing provider is logged and skipped: the
    public answer goes out without the crew rather than not at all.
    """
    for provider in tuple(_providers):
        try:
            found = provider(outage_id)
        except Exception:
            logger.exception("Public crew provider %r failed for outage %s", provider, outage_id)
            continue
        if not found:
            continue
        return PublicCrew(
            status=str(found.get("status") or ""),
            lat=_coarse(found.get("lat")),
            lng=_coarse(found.get("lng")),
        )
    return None


def _coarse(value: Any) -> float | None:
    if value is None:
        return None
    try:
        return round(float(value), DECIMALS)
    except (TypeError, ValueError):
        return None
