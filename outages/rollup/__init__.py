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
    A maximum a-posteriori choice of the set of faulted devices. Under a fault at device D each
    customer below D calls with an unknown probability p, drawn from a Beta prior centred on
    ``call_rate`` (weight ``call_rate_strength``; None fixes p); any other customer calls with
    the small ``background_rate`` q; every fault costs its prior odds
    ``lambda = log((1 - fault_prior) / fault_prior)``. Against "every call is noise", choosing
    D scores (k_D distinct calling service points below D, N_D customers below D)::

        log P(k_D of N_D call | outage)  -  k_D log q  -  (N_D - k_D) log(1 - q)  -  lambda

    where the first term is the beta-binomial ``log B(a + k, b + N - k) - log B(a, b)`` (with
    a fixed p: ``k log p + (N - k) log(1 - p)``). Each caller below D is strong evidence for
    it, each silent customer below D weak evidence against it. The best set of disjoint
    devices is found exactly by one bottom-up pass over the ancestors of the calling
    transformers, ``best(D) = max(score(D), sum(best(child)))``. This works on chains (where the
    children rule never fires), weighs a device against its ancestors and siblings, leaves far
    noise calls alone, and separates simultaneous faults. A second, exact look then trims
    outliers: unrelated calls (``background_rate`` per customer plus ``noise_share`` of all
    calls) can only come from customers who still have supply, so a prediction that swallowed
    a few calls from the handful of customers it would leave supplied is replaced by the best
    split below it when that is likelier (see :func:`_trim_outliers`). Transformers that the
    rules would predict but the model leaves unexplained are still predicted
    (``rules_floor``), so a transformer never needs more calls than under the rules.

Both predictors never predict at or above a device that telemetry reports closed (energised),
ignore reports below a device already covered by an active outage (returned in
``covered_reports`` for merging), and turn every report that no prediction explains into a
single-premise request. Covered devices may be *absorbed* by a prediction above them, which
the caller handles by widening the outage (``Prediction.absorbs``; ``widen_covered=False``
forbids predictions above covered devices instead).

Cost: building a :class:`Topology` is linear in the number of devices and is meant to be
cached; one :func:`rollup` run is linear in the number of reports plus the number of distinct
ancestors of the calling transformers, so a storm (tens of thousands of reports over ~100k
devices) takes a fraction of a second. Results are deterministic: ties go to the lower device
and every list follows the topology's or the input's order.
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
