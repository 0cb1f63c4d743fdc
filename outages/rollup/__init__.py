"""The outage roll-up engine: from open trouble reports to predicted outage devices. Pure Python.

Customers call; each report is resolved to a service point under a distribution transformer,
which hangs below a chain of switching devices up to a feeder breaker. This module groups the
open, unmerged reports of a time window by topology and predicts the lowest device(s) that
explain them. It knows nothing about the database: the caller builds a :class:`Topology` from
the network (``parent`` links, customers per transformer, device roles, telemetry) and passes
plain :class:`Report` values; the answer is a :class:`RollupResult`.

Two predictors share the same inputs and outputs (``RollupConfig.mode``):

``rules``
    The classic OMS rule set: ``min_reports`` calls from different service points, or
    ``transformer_share`` of a transformer's customers, predict the transformer; a device with
    ``rollup_children`` predicted children becomes the prediction instead of them.

``likelihood`` (default)
    A maximum a-posteriori choice of the set of faulted devices (:mod:`.likelihood`). Under a
    fault at device D each customer below D calls with an unknown probability p, drawn from
    a Beta prior centred on ``call_rate`` (weight ``call_rate_strength``; None fixes p), and
    only reported faults are in question (the number of callers is zero-truncated). A
    customer with supply calls with a small rate ``c``: mistakes (``background_rate``),
    stray calls that come with an event (``noise_share`` of the calls that faults explain,
    spread over all customers, so it shrinks with the customers still supplied) and the
    customer's own premise fault. Every fault of D costs its prior odds
    ``lambda_D = log((1 - pi_D) / pi_D)``, where ``pi_D`` comes from the **fault mix**
    (:class:`FaultMix`, a setting: how often premises, transformers, fused laterals, line
    sections and switches fail) divided by the number of such elements, plus the sections D
    protects. Against "every call is noise or a premise fault", choosing D scores
    (k_D distinct calling service points below D, N_D customers below D)::

        log P(k_D of N_D call | outage, k_D >= 1)  -  k_D log c  -  (N_D - k_D) log(1 - c)
        -  lambda_D

    Each caller below D is strong evidence for it, each silent customer below D weak
    evidence against it. The best set of disjoint devices is found exactly by one bottom-up
    pass over the ancestors of the calling devices, ``best(D) = max(score(D),
    sum(best(child)))``. This works on chains (where the children rule never fires), weighs
    a device against its ancestors and siblings, leaves far noise calls alone, separates
    simultaneous faults, keeps the feeder head when nearly all customers call (a stray call
    from the last supplied customers is improbable), and reads a lone call by the mix: a
    device when premises rarely fail, the premise when they often do unless the device is
    small. A device in front of another with exactly its customers pools its prior into the
    lower one, which names the outage. Transformers that the rules would predict but the
    model leaves unexplained are still predicted (``rules_floor``), so a transformer never
    needs more calls than under the rules.

Time (:mod:`.timing`): times must be aware (:class:`NaiveTimeError` otherwise); reports dated
after ``now`` are ignored and counted, a report given twice counts once; the window is
anchored on clusters of calls, so a late call does not push a fault's early calls out.

Both predictors never predict at or above a device that telemetry reports closed (energised),
ignore reports below a device already covered by an active outage (returned in
``covered_reports`` for merging), and turn every report that no prediction explains into a
single-premise request. Covered devices may be *absorbed* by a prediction above them, which
the caller handles by widening the outage (``Prediction.absorbs``; ``widen_covered=False``
forbids predictions above covered devices instead).

Cost: building a :class:`Topology` is linear in the number of devices and is meant to be
cached; one :func:`rollup` run sorts the report times and makes two passes (the second prices
event noise) over the distinct ancestors of the calling devices, so a storm (tens of thousands
of reports over ~100k devices) takes well under a second. Results are deterministic: ties go
to the lower device and every list follows the topology's or the input's order.
"""

from .config import DEFAULT_CONFIG, FaultKind, FaultMix, Mode, RollupConfig
from .engine import rollup
from .timing import NaiveTimeError
from .topology import Topology
from .types import (
    DeviceId,
    Prediction,
    Reason,
    Report,
    ReportId,
    RollupResult,
    ServicePointId,
    SinglePremise,
)

__all__ = [
    "DEFAULT_CONFIG",
    "DeviceId",
    "FaultKind",
    "FaultMix",
    "Mode",
    "NaiveTimeError",
    "Prediction",
    "Reason",
    "Report",
    "ReportId",
    "RollupConfig",
    "RollupResult",
    "ServicePointId",
    "SinglePremise",
    "Topology",
    "rollup",
]
