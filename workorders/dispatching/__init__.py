"""The dispatch decision: which crew takes which work order. Pure Python + numpy/scipy, no ORM.

The services load crews and orders into the plain dataclasses below, call these functions and
record what they return; nothing here reads the clock or the database (``now`` is an argument).

**Hard filters.** A crew is a candidate for an order only if it is on duty, has a known
position, has the skill the order needs (if any) and has spare capacity (``capacity >
open_orders``). Re-dispatch also drops the crews that rejected the order or let the offer time
out. Every crew filtered out is reported with all the reasons that apply.

**Cost.** Candidates are ranked by a cost in *minute-equivalents*; lower is better, and the
components are returned so the console can explain "why this crew":

* ``travel``: travel time = great-circle distance x ``road_factor`` / speed of the area class
  (urban 25 km/h, rural 40, remote 50 by default). When the crew's own area class is known
  and differs from the order's, half the road is driven at each speed.
* ``workload``: ``workload_min_per_order`` (20) per open order, because a busy crew finishes
  its current job first; so a free crew wins unless the busy one is 20 minutes closer.
* ``sla``: ``sla_late_weight`` (2) per minute the crew would arrive after the order's SLA
  deadline, so crews that make the deadline are preferred over ones that would not.
* ``territory``: ``-territory_bonus_min`` (10) for a crew of the order's own grid (own grid
  first: a crew from another grid must be more than 10 minutes closer to win).

**Storm mode.** When more orders wait than ``storm_threshold`` (30), urgent orders are still
assigned at once, one by one (greedy best), and all the others waiting at that moment are
matched together in one minimum-cost assignment (no batch is cut in arrival order): first on a
sparse graph linking each order to its ``batch_neighbours`` (16) cheapest crews
(``scipy.sparse.csgraph.min_weight_full_bipartite_matching``), and when that cannot serve every
order, or crews have fewer than two free places per order, on the dense matrix
(``scipy.optimize.linear_sum_assignment``). A crew with spare capacity k appears as k columns,
the s-th one carrying s extra orders of workload (it is queued behind the first). Infeasible
pairs get a cost so large that the solver only uses them when no feasible pair is left, and are
then dropped, so the solution is a maximum-cardinality feasible matching of least cost. When
crews are short, orders with little SLA slack win: each order's row is lowered by
``sla_priority_weight`` per minute its deadline is nearer than ``sla_priority_horizon_min``
(120), which changes *which* orders are served but not the cost of serving them.

**Rolling horizon.** During a burst, offers that no crew has accepted yet are planned again
with the new arrivals (``plan_dispatch(..., offers=...)``): a standing offer is never dropped
for a new order, and moves to another crew only when the plan gains more than
``replan_min_gain_min`` (2) per moved offer, the price of telling a crew "not that one after
all".

The package, by concern: ``model`` (reason codes, the dataclasses, the policy), ``costs``
(geometry and the vectorised cost terms), ``ranking`` (one order), ``matching`` (greedy and
the batch), ``planning`` (storm mode and the rolling horizon), ``preemption`` and ``pool``
(the grab pool). Import from ``workorders.dispatching``.
"""

from .costs import (
    haversine_km,
    sla_priority,
    travel_minutes,
)
from .matching import (
    BatchMatrix,
    assign_batch,
    assign_greedy,
    batch_cost_matrix,
    solve_batch,
)
from .model import (
    DEFAULT_POLICY,
    EARTH_RADIUS_KM,
    MISSING_SKILL,
    NO_CAPACITY,
    NO_ELIGIBLE_CREW,
    NO_POSITION,
    OFF_DUTY,
    OUTCOMPETED,
    PREEMPT_ALLOWED,
    PREEMPT_CREW_INELIGIBLE,
    PREEMPT_FREE_CREW,
    PREEMPT_NOT_URGENT,
    PREEMPT_STAGE,
    PREEMPT_VICTIM_SLA,
    PREEMPT_VICTIM_URGENT,
    REASON_LABELS,
    REJECTED,
    REMOTE,
    RURAL,
    TIMED_OUT,
    URBAN,
    Assignment,
    Candidate,
    CrewState,
    DispatchPolicy,
    DispatchResult,
    FilteredCrew,
    Offer,
    OrderRequest,
    Ranking,
    Unassigned,
    gettext_noop,
)
from .planning import (
    is_storm,
    plan_dispatch,
    release_offers,
)
from .pool import (
    crews_within_radius,
    grab_bonus_points,
)
from .preemption import (
    PreemptionDecision,
    preemption_decide,
)
from .ranking import (
    pick_next_crew,
    rank_crews,
)

__all__ = [
    "DEFAULT_POLICY",
    "EARTH_RADIUS_KM",
    "MISSING_SKILL",
    "NO_CAPACITY",
    "NO_ELIGIBLE_CREW",
    "NO_POSITION",
    "OFF_DUTY",
    "OUTCOMPETED",
    "PREEMPT_ALLOWED",
    "PREEMPT_CREW_INELIGIBLE",
    "PREEMPT_FREE_CREW",
    "PREEMPT_NOT_URGENT",
    "PREEMPT_STAGE",
    "PREEMPT_VICTIM_SLA",
    "PREEMPT_VICTIM_URGENT",
    "REASON_LABELS",
    "REJECTED",
    "REMOTE",
    "RURAL",
    "TIMED_OUT",
    "URBAN",
    "Assignment",
    "BatchMatrix",
    "Candidate",
    "CrewState",
    "DispatchPolicy",
    "DispatchResult",
    "FilteredCrew",
    "Offer",
    "OrderRequest",
    "PreemptionDecision",
    "Ranking",
    "Unassigned",
    "assign_batch",
    "assign_greedy",
    "batch_cost_matrix",
    "crews_within_radius",
    "gettext_noop",
    "grab_bonus_points",
    "haversine_km",
    "is_storm",
    "pick_next_crew",
    "plan_dispatch",
    "preemption_decide",
    "rank_crews",
    "release_offers",
    "sla_priority",
    "solve_batch",
    "travel_minutes",
]
