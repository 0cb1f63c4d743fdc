"""The crew app's action endpoint as services: one per crew action, each run inside the
idempotency wrapper (``crew.crew_action_idempotent``) by ``crew_action_run``.

The view parses the request into a ``CrewAction`` and serialises the answer; everything in
between is here: the "not your order" rule (``progress.crew_order_check``), which fields go
with which action, the position sent along with a step, the photos stored with findings,
and the step's own service in ``progress``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch_center.core.exceptions import DomainError
from grids.models import Crew, Device
from outages.models import OutageCause
from workorders.models import WorkOrder

from . import progress
from .crew import crew_action_idempotent, crew_locations_record
from .photos import work_order_photos_store

Status = WorkOrder.Status

CREW_ACTIONS = ("accept", "reject", "depart", "arrive", "findings", "restore", "complete")
# Which actions make sense from each status (shown to the app as buttons).
ACTIONS_BY_STATUS: dict[str, list[str]] = {
    Status.DISPATCHED: ["accept", "reject"],
    Status.CLAIMED: ["accept", "reject"],
    Status.ACCEPTED: ["depart", "arrive"],
    Status.EN_ROUTE: ["arrive"],
    Status.ON_SITE: ["findings", "restore", "complete"],
}


@dataclass(frozen=True)
class CrewAction:
    """One parsed request of the crew app: the action and what came with it."""

    action: str
    at: datetime | None = None
    lat: float | None = None
    lng: float | None = None
    note: str = ""
    cause: OutageCause | None = None
    device: Device | None = None
    photos: Sequence[UploadedFile] = field(default_factory=list)

    def fingerprint(self) -> dict[str, Any]:
        """What identifies the request for the idempotency key (photos by name and size)."""
        given: dict[str, Any] = {"at": self.at, "lat": self.lat, "lng": self.lng}
        given |= {"cause": self.cause, "device": self.device}
        return {
            "action": self.action,
            "note": self.note,
            **{k: getattr(v, "code", v) for k, v in given.items() if v is not None},
            "photos": [(p.name, p.size) for p in self.photos],
        }


def crew_actions_allowed(order: WorkOrder) -> list[str]:
    """The actions the crew app offers for ``order`` in its status."""
    return ACTIONS_BY_STATUS.get(order.status, [])


def crew_action_check(request: CrewAction) -> None:
    """Which fields go with which action (``DomainError`` ``invalid`` naming the field)."""

    def refuse(name: str, message: str) -> None:
        raise DomainError(message, code="invalid", fields={name: [message]})

    action = request.action
    if request.photos and action != "findings":
        refuse("photos", _("只有现场勘查可以上传照片。"))
    if request.cause is not None and action != "findings":
        refuse("cause", _("只有现场勘查可以填写原因。"))
    if request.device is not None and action != "restore":
        refuse("device", _("只有恢复送电可以指定设备。"))
    if action == "findings" and not (request.cause or request.note or request.photos):
        refuse("cause", _("请填写原因、说明或上传照片。"))


# --- one service per action (inside the wrapper's transaction) ---------------------------


def crew_action_accept(*, order: WorkOrder, crew: Crew, actor: User, request: CrewAction) -> None:
    """Accept the order offered or claimed."""
    progress.work_order_accept(order=order, crew=crew, actor=actor, at=request.at)


def crew_action_reject(*, order: WorkOrder, crew: Crew, actor: User, request: CrewAction) -> None:
    """Refuse the order; the note is the reason."""
    progress.work_order_reject(order=order, crew=crew, actor=actor, reason=request.note)


def crew_action_depart(*, order: WorkOrder, crew: Crew, actor: User, request: CrewAction) -> None:
    """Set off towards the site."""
    progress.work_order_depart(order=order, crew=crew, actor=actor, at=request.at)


def crew_action_arrive(*, order: WorkOrder, crew: Crew, actor: User, request: CrewAction) -> None:
    """Arrive on site."""
    progress.work_order_arrive(order=order, crew=crew, actor=actor, at=request.at)


def crew_action_findings(*, order: WorkOrder, crew: Crew, actor: User, request: CrewAction) -> None:
    """Store the photos, then record the findings that list them."""
    stored = work_order_photos_store(
        order=order, crew=crew, uploads=request.photos, at=request.at or timezone.now()
    )
    progress.work_order_record_findings(
        order=order,
        crew=crew,
        actor=actor,
        cause=request.cause,
        note=request.note,
        photo_ids=[p.pk for p in stored],
        at=request.at,
    )


def crew_action_restore(*, order: WorkOrder, crew: Crew, actor: User, request: CrewAction) -> None:
    """Report supply restored (below ``device``, or all of it)."""
    progress.work_order_restore(
        order=order,
        crew=crew,
        actor=actor,
        device=request.device,
        at=request.at,
        note=request.note,
    )


def crew_action_complete(*, order: WorkOrder, crew: Crew, actor: User, request: CrewAction) -> None:
    """Finish the work."""
    progress.work_order_complete(
        order=order, crew=crew, actor=actor, at=request.at, note=request.note
    )


CrewActionService = Callable[..., None]

CREW_ACTION_SERVICES: Mapping[str, CrewActionService] = {
    "accept": crew_action_accept,
    "reject": crew_action_reject,
    "depart": crew_action_depart,
    "arrive": crew_action_arrive,
    "findings": crew_action_findings,
    "restore": crew_action_restore,
    "complete": crew_action_complete,
}


def crew_action_run(
    *,
    order: WorkOrder,
    crew: Crew,
    actor: User,
    request: CrewAction,
    key: str | None,
    answer: Callable[[WorkOrder], dict[str, Any]],
) -> tuple[int, dict[str, Any], bool]:
    """Run one crew action at most once per idempotency ``key``; returns (status code, body,
    replayed). ``answer`` builds the body from the order afterwards (the view's serializer);
    with a key it is stored and a retry gets it back unchanged.

    Order of refusals: not the crew's order (403 ``not_your_order``), a field that does not
    go with the action (400), then whatever the step's own service refuses. A position sent
    along (``lat``/``lng``) is recorded as a ping at ``at`` in the same transaction.
    """
    progress.crew_order_check(order=order, crew=crew)
    crew_action_check(request)
    service = CREW_ACTION_SERVICES[request.action]

    def perform() -> tuple[int, dict[str, Any]]:
        if request.lat is not None and request.lng is not None:
            crew_locations_record(
                crew=crew, points=[(request.at or timezone.now(), request.lat, request.lng)]
            )
        service(order=order, crew=crew, actor=actor, request=request)
        return 200, answer(order)

    return crew_action_idempotent(
        order=order, crew=crew, key=key, payload=request.fingerprint(), perform=perform
    )
