"""The rolling horizon of storm mode: offers no crew has accepted yet are planned again with
the new arrivals, and moved when the plan gains enough (``dispatching.plan_dispatch``).

Which offers may move (``standing_offers``): orders dispatched by the engine itself (direct or
batch; never a dispatcher's choice, a pre-emption, a grab-pool claim or an urgent order), still
``dispatched`` (not accepted) to the crew of their latest decision, without refusals (the batch
knows no per-order exclusions).

Offers are read as plain values (``StandingOffer``), not model instances. Moving
(``work_orders_offers_move``) keeps the order ``dispatched``: only its crew changes, with one
compare-and-set ``UPDATE`` for all the moved offers, on status, version *and* the crew each
had, so an offer accepted in the meantime is never taken away. The new crew's accept clock
starts now; ``dispatched_at`` keeps the first dispatch (the order has had a crew since). Each
move is recorded as a batch decision with ``data.replanned_from`` and a timeline line.
Capacity is checked under the crews' locks.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import BooleanField, ExpressionWrapper, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch_center.core import timeline
from workorders import dispatching, selectors
from workorders.models import DispatchDecision, DispatchRefusal, WorkOrder, WorkOrderEvent

from . import common

logger = logging.getLogger(__name__)

Status = WorkOrder.Status
Mode = DispatchDecision.Mode
# How many standing offers one batch plans again at most (with the waiting orders).
MAX_OFFERS = 5000
_ENGINE_MODES = frozenset({Mode.DIRECT, Mode.BATCH})


@dataclass(frozen=True, slots=True)
class StandingOffer:
    """An offer the rolling horizon may move, as read: the order, its version, its crew."""

    order_id: int
    version: int
    crew_id: int

    @classmethod
    def of(cls, order: WorkOrder) -> StandingOffer:
        assert order.crew_id is not None
        return cls(order.pk, order.version, order.crew_id)


@dataclass
class OfferMove:
    """A standing offer to give to another crew, with what to record about it."""

    offer: StandingOffer
    crew_id: int
    candidates: list[dict[str, Any]] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)


def standing_offers() -> tuple[dict[int, StandingOffer], list[dispatching.Offer]]:
    """The offers the rolling horizon may move (module docstring): the offers by order id,
    and as the dispatch module sees them. Plain values, four queries."""
    rows = selectors.work_order_dispatch_requests(
        WorkOrder.objects.filter(status=Status.DISPATCHED, crew__isnull=False).order_by("pk")[
            :MAX_OFFERS
        ],
        extra=("version", "crew_id"),
    )
    rows = [(row, request) for row, request in rows if request is not None and not request.urgent]
    if not rows:
        return {}, []
    ids = [row["pk"] for row, _request in rows]
    latest: dict[int, tuple[int | None, str, bool]] = {}
    for order_id, decided_crew, mode, preempted in (
        DispatchDecision.objects.filter(order_id__in=ids, crew__isnull=False)
        .annotate(
            preempted=ExpressionWrapper(
                Q(data__has_key="preempted_order"), output_field=BooleanField()
            )
        )
        .order_by("order_id", "at", "pk")
        .values_list("order_id", "crew_id", "mode", "preempted")
    ):
        latest[order_id] = (decided_crew, mode, bool(preempted))
    refused = set(
        DispatchRefusal.objects.filter(order_id__in=ids).values_list("order_id", flat=True)
    )
    by_id: dict[int, StandingOffer] = {}
    offers: list[dispatching.Offer] = []
    for row, request in rows:
        pk, crew_id = row["pk"], row["crew_id"]
        decided, decided_mode, preempted_by = latest.get(pk, (None, "", False))
        if pk in refused or decided != crew_id or decided_mode not in _ENGINE_MODES or preempted_by:
            continue
        assert request is not None
        by_id[pk] = StandingOffer(pk, row["version"], crew_id)
        offers.append(dispatching.Offer(request, crew_id))
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
                net[m.offer.crew_id] += 1
            if all(room.get(c, 0) + n >= 0 for c, n in net.items()):
                done += pending
            break
        for move in progressed:
            if room.get(move.crew_id, 0) <= 0:
                continue
            room[move.crew_id] = room.get(move.crew_id, 0) - 1
            room[move.offer.crew_id] = room.get(move.offer.crew_id, 0) + 1
            done.append(move)
        taken = {id(m) for m in done}
        pending = [m for m in pending if id(m) not in taken]
    return done


@transaction.atomic
def work_orders_offers_move(*, moves: Sequence[OfferMove], now: datetime | None = None) -> int:
    """Give standing offers to the crews the rolling horizon chose (module docstring).

    Locks every crew involved (pk order), skips a move whose new crew is off duty or full,
    moves all the orders in one compare-and-set ``UPDATE`` (on status, version and old crew
    each), and records the decisions and timeline lines in bulk. Returns how many offers
    moved.
    """
    if not moves:
        return 0
    now = now or timezone.now()
    crews = common.lock_crews([m.crew_id for m in moves] + [m.offer.crew_id for m in moves])
    counts = common.crew_open_counts(crews)
    room = {pk: crew.capacity - counts.get(pk, 0) for pk, crew in crews.items() if crew.on_duty}
    expires = now + common.conf().accept_timeout
    feasible = _feasible_moves([m for m in moves if m.crew_id in room], room)
    done = _cas_moves(feasible, expires=expires, now=now)
    moved = [m for m in feasible if m.offer.order_id in done]
    _record_moves(moved, now=now)
    common.crew_refresh_status([m.crew_id for m in moved] + [m.offer.crew_id for m in moved])
    return len(moved)


def _cas_moves(moves: Sequence[OfferMove], *, expires: datetime, now: datetime) -> set[int]:
    """Move each offer to its new crew if it is still dispatched, at the version and with the
    crew it was read with; returns the ids of the orders moved. One ``UPDATE ... FROM
    (VALUES ...)`` on PostgreSQL, one ``UPDATE`` per offer elsewhere."""
    if not moves:
        return set()
    if connection.vendor != "postgresql":
        done: set[int] = set()
        for move in moves:
            offer = move.offer
            if WorkOrder.objects.filter(
                pk=offer.order_id,
                status=Status.DISPATCHED,
                version=offer.version,
                crew_id=offer.crew_id,
            ).update(
                crew_id=move.crew_id,
                offer_expires_at=expires,
                version=F("version") + 1,
                updated_at=now,
            ):
                done.add(offer.order_id)
        return done
    q = connection.ops.quote_name
    rows_sql = ", ".join(["(%s::bigint, %s::integer, %s::bigint, %s::bigint)"] * len(moves))
    sql = (
        f"UPDATE {q(WorkOrder._meta.db_table)} AS w SET crew_id = v.to_crew, "  # noqa: S608
        "offer_expires_at = %s, version = w.version + 1, updated_at = %s "
        f"FROM (VALUES {rows_sql}) AS v (id, version, from_crew, to_crew) "
        "WHERE w.id = v.id AND w.status = %s AND w.version = v.version "
        "AND w.crew_id = v.from_crew RETURNING w.id"
    )
    params: list[Any] = [expires, now]
    for move in moves:
        params += [move.offer.order_id, move.offer.version, move.offer.crew_id, move.crew_id]
    params.append(Status.DISPATCHED.value)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0] for row in cursor.fetchall()}


def _record_moves(moved: Sequence[OfferMove], *, now: datetime) -> None:
    decisions = DispatchDecision.objects.bulk_create(
        [
            DispatchDecision(
                order_id=move.offer.order_id,
                crew_id=move.crew_id,
                mode=Mode.BATCH,
                candidates=move.candidates,
                filtered_out=[],
                data={**move.data, "replanned_from": move.offer.crew_id},
                at=now,
            )
            for move in moved
        ]
    )
    WorkOrderEvent.objects.bulk_create(
        [
            timeline.make_event(
                WorkOrderEvent,
                order_id=move.offer.order_id,
                kind=WorkOrderEvent.Kind.DISPATCH_DECISION,
                at=now,
                actor=None,
                actor_label="dispatch",
                reason=_("滚动重排：改派给更合适的班组"),
                from_status="",
                to_status="",
                crew_id=move.crew_id,
                data={
                    "outcome": "replanned",
                    "from_crew": move.offer.crew_id,
                    "to_crew": move.crew_id,
                    "decision_id": decision.pk,
                },
            )
            for move, decision in zip(moved, decisions, strict=True)
        ]
    )
