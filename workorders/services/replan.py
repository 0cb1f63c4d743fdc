"""The rolling horizon of storm mode: offers no crew has accepted yet are planned again with
the new arrivals, and moved when the plan gains enough (``dispatching.plan_dispatch``).

Which offers may move (``standing_offers``): orders dispatched by the engine itself (direct or
batch; never a dispatcher's choice, a pre-emption, a grab-pool claim or an urgent order), still
``dispatched`` (not accepted) to the crew of their latest decision, without refusals (the batch
knows no per-order exclusions).

Moving (``work_orders_offers_move``) keeps the order ``dispatched``: only its crew changes,
with a compare-and-set on status, version *and* the crew it had, so an offer accepted in the
meantime is never taken away. The new crew's accept clock starts now; ``dispatched_at`` keeps
the first dispatch (the order has had a crew since). Each move is recorded as a batch decision
with ``data.replanned_from`` and a timeline line. Capacity is checked under the crews' locks.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from workorders import dispatching, selectors
from workorders.models import DispatchDecision, DispatchRefusal, WorkOrder, WorkOrderEvent

from . import common

logger = logging.getLogger(__name__)

Status = WorkOrder.Status
Mode = DispatchDecision.Mode
# How many standing offers one batch plans again at most (with the waiting orders).
MAX_OFFERS = 5000
_ENGINE_MODES = frozenset({Mode.DIRECT, Mode.BATCH})


@dataclass
class OfferMove:
    """A standing offer to give to another crew, with what to record about it."""

    order: WorkOrder
    crew_id: int
    candidates: list[dict[str, Any]] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)


def standing_offers() -> tuple[dict[int, WorkOrder], list[dispatching.Offer]]:
    """The offers the rolling horizon may move (module docstring): the orders by id, and
    the offers as the dispatch module sees them."""
    orders = [
        o
        for o in WorkOrder.objects.filter(status=Status.DISPATCHED, crew__isnull=False)
        .select_related("grid", "skill_needed")
        .order_by("pk")[:MAX_OFFERS]
        if not o.is_urgent
    ]
    if not orders:
        return {}, []
    ids = [o.pk for o in orders]
    latest: dict[int, tuple[int | None, str, dict[str, Any]]] = {}
    for order_id, decided_crew, mode, data in (
        DispatchDecision.objects.filter(order_id__in=ids, crew__isnull=False)
        .order_by("order_id", "at", "pk")
        .values_list("order_id", "crew_id", "mode", "data")
    ):
        latest[order_id] = (decided_crew, mode, data or {})
    refused = set(
        DispatchRefusal.objects.filter(order_id__in=ids).values_list("order_id", flat=True)
    )
    by_id: dict[int, WorkOrder] = {}
    offers: list[dispatching.Offer] = []
    for order in orders:
        crew_id, mode, data = latest.get(order.pk, (None, "", {}))
        if (
            order.pk in refused
            or crew_id != order.crew_id
            or mode not in _ENGINE_MODES
            or "preempted_order" in data
            or order.crew_id is None
        ):
            continue
        request = selectors.work_order_dispatch_request(order)
        if request is None:
            continue
        by_id[order.pk] = order
        offers.append(dispatching.Offer(request, order.crew_id))
    return by_id, offers


def _feasible_moves(moves: Sequence[OfferMove], room: dict[int, int]) -> list[OfferMove]:
    """The moves that fit the crews' room (``room``: crew id → free places, updated). A move
    frees a place on the crew it leaves, so moves are taken in rounds; a ring of moves that
    only fits as a whole (crews swapping offers) is taken whole if it fits."""
    pending = list(moves)
    done: list[OfferMove] = []
    while pending:
        progressed = [m for m in pending if room.get(m.crew_id, 0) > 0]
        if not progressed:
            net: dict[int, int] = defaultdict(int)
            for m in pending:
                net[m.crew_id] -= 1
                if m.order.crew_id is not None:
                    net[m.order.crew_id] += 1
            if all(room.get(c, 0) + n >= 0 for c, n in net.items()):
                done += pending
            break
        move = progressed[0]
        room[move.crew_id] = room.get(move.crew_id, 0) - 1
        if move.order.crew_id is not None:
            room[move.order.crew_id] = room.get(move.order.crew_id, 0) + 1
        done.append(move)
        pending.remove(move)
    return done


@transaction.atomic
def work_orders_offers_move(*, moves: Sequence[OfferMove], now: datetime | None = None) -> int:
    """Give standing offers to the crews the rolling horizon chose (module docstring).

    Locks every crew involved (pk order), skips a move whose new crew is off duty or full,
    moves each order with a compare-and-set on status, version and old crew, and records the
    decisions and timeline lines in bulk. Returns how many offers moved.
    """
    if not moves:
        return 0
    now = now or timezone.now()
    crews = common.lock_crews([m.crew_id for m in moves] + [m.order.crew_id for m in moves])
    counts = common.crew_open_counts(crews)
    room = {pk: crew.capacity - counts.get(pk, 0) for pk, crew in crews.items() if crew.on_duty}
    expires = now + common.conf().accept_timeout
    moved: list[tuple[OfferMove, int]] = []
    for move in _feasible_moves([m for m in moves if m.crew_id in room], room):
        order, old = move.order, move.order.crew_id
        if old is None:
            continue
        rows = WorkOrder.objects.filter(
            pk=order.pk, status=Status.DISPATCHED, version=order.version, crew_id=old
        ).update(
            crew_id=move.crew_id,
            offer_expires_at=expires,
            version=F("version") + 1,
            updated_at=now,
        )
        if rows != 1:
            continue  # accepted, withdrawn or moved meanwhile: the offer is not ours to move
        order.crew_id, order.offer_expires_at = move.crew_id, expires
        order.version += 1
        moved.append((move, old))
    _record_moves(moved, now=now)
    common.crew_refresh_status([m.crew_id for m, _old in moved] + [old for _m, old in moved])
    return len(moved)


def _record_moves(moved: Sequence[tuple[OfferMove, int]], *, now: datetime) -> None:
    decisions = DispatchDecision.objects.bulk_create(
        [
            DispatchDecision(
                order=move.order,
                crew_id=move.crew_id,
                mode=Mode.BATCH,
                candidates=move.candidates,
                filtered_out=[],
                data={**move.data, "replanned_from": old},
                at=now,
            )
            for move, old in moved
        ]
    )
    WorkOrderEvent.objects.bulk_create(
        [
            common.make_event(
                order=move.order,
                kind=WorkOrderEvent.Kind.DISPATCH_DECISION,
                at=now,
                actor_label="dispatch",
                crew_id=move.crew_id,
                reason=_("滚动重排：改派给更合适的班组"),
                data={
                    "outcome": "replanned",
                    "from_crew": old,
                    "to_crew": move.crew_id,
                    "decision_id": decision.pk,
                },
            )
            for (move, old), decision in zip(moved, decisions, strict=True)
        ]
    )
