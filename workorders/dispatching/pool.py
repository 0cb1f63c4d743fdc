"""The grab pool: which crews hear of a published order, and the bonus for stale ones."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import numpy as np

from .costs import _minutes, haversine_km
from .model import DEFAULT_POLICY, CrewState, DispatchPolicy, OrderRequest

# --- grab pool ------------------------------------------------------------------------------


def crews_within_radius(
    order: OrderRequest,
    crews: Iterable[CrewState],
    *,
    policy: DispatchPolicy = DEFAULT_POLICY,
    radius_km: float | None = None,
    eligible_only: bool = True,
) -> list[tuple[int, float]]:
    """``(crew_id, distance_km)`` of the crews within the radius of a published order, nearest
    first. The radius defaults to the policy's for the order's area class; with
    ``eligible_only`` crews that could not claim it (off duty, skill, capacity) are left out."""
    located = [(c, c.lat, c.lng) for c in crews if c.lat is not None and c.lng is not None]
    if not located:
        return []
    crews = [c for c, _, _ in located]
    radius = policy.grab_radius_km[order.area_class] if radius_km is None else radius_km
    lats = np.array([lat for _, lat, _ in located], dtype=np.float64)
    lngs = np.array([lng for _, _, lng in located], dtype=np.float64)
    dist = haversine_km(order.lat, order.lng, lats, lngs).reshape(-1)
    ok = dist <= radius
    if eligible_only:
        skill = order.skill_needed
        ok &= np.array(
            [c.on_duty and c.spare > 0 and (not skill or skill in c.skills) for c in crews],
            dtype=bool,
        )
    hits = np.flatnonzero(ok)
    ids = np.array([crews[j].id for j in hits], dtype=np.int64)
    hits = hits[np.lexsort((ids, dist[hits]))]
    return [(crews[j].id, float(dist[j])) for j in hits]


def grab_bonus_points(
    *, waiting_since: datetime, now: datetime, policy: DispatchPolicy = DEFAULT_POLICY
) -> int:
    """Points a crew earns for claiming an order that has waited since ``waiting_since``:
    ``grab_bonus_points_per_step`` per full ``grab_bonus_step_min``, capped, so stale orders in
    the pool attract claims before they fall back to dispatch."""
    waited = _minutes((now - waiting_since).total_seconds())
    if waited <= 0:
        return 0
    steps = int(waited // policy.grab_bonus_step_min)
    return min(policy.grab_bonus_max_points, steps * policy.grab_bonus_points_per_step)
