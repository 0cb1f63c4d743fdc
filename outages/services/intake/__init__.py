"""Trouble report intake: the call is saved whatever happens; then it is merged or left.

Flow of ``report_submit`` (hotline, web map, app, WeChat; the SCADA gateway has its own path):

1. Coordinates outside the service area are refused (400): bad input, not a call.
2. The premise is resolved (``placement._placement_of_input``: a staff-given service point,
   an exact account, the nearest service point within ``OUTAGE_INTAKE_NEAREST_METERS`` of the
   coordinates, or a clearly best address) and placed (``placement._placement_for``), by
   reads only: merged into the active outage that has this customer out; ``pending`` for the
   roll-up (``outages.services.rollup_service``, triggered after commit); ``needs_resolution``
   for an agent (``report_resolve``) when the premise is not certain. Any failure here is
   caught.
3. The report is inserted in one autocommitted statement with that placement (``received``
   after a failure, for the sweeper), so nothing that follows can lose it. The
   ``Idempotency-Key`` is the unique constraint's: a retry's insert fails and returns the
   first report (``created=False``), or ``IdempotencyKeyReused`` (422) for another body.
4. A customer whose interruption in an outage already ended (restored, still off) gets a
   nested single-premise outage, opened after the insert (``_nest_after_insert``).
5. Sparks / wire down publish ``report.danger`` once, whatever the placement.

Modules, by purpose: ``inputs`` (what a caller submits, the result, the replay error),
``resolution`` (finding the premise: account, coordinates, address; the service area),
``placement`` (merged / pending / nested / an agent's, by reads only), ``storage`` (the
insert and the Idempotency-Key), ``submission`` (``report_submit``), ``processing`` (the
sweeper's ``report_process`` and the agents' ``report_resolve``), ``messages`` (what the
caller is told). Import from here.
"""

from .inputs import ACTOR_LABEL, IdempotencyKeyReused, IntakeResult, ReportInput, Status
from .messages import report_message
from .processing import report_process, report_resolve
from .resolution import (
    ADDRESS_CANDIDATES,
    ADDRESS_MIN_LEAD,
    ADDRESS_MIN_SCORE,
    SERVICE_AREA_MARGIN_DEG,
    in_service_area,
    service_point_for_address,
    service_point_nearest,
)
from .storage import REFERENCE_ALPHABET, REFERENCE_LENGTH
from .submission import report_submit

__all__ = [
    "ACTOR_LABEL",
    "ADDRESS_CANDIDATES",
    "ADDRESS_MIN_LEAD",
    "ADDRESS_MIN_SCORE",
    "REFERENCE_ALPHABET",
    "REFERENCE_LENGTH",
    "SERVICE_AREA_MARGIN_DEG",
    "IdempotencyKeyReused",
    "IntakeResult",
    "ReportInput",
    "Status",
    "in_service_area",
    "report_message",
    "report_process",
    "report_resolve",
    "report_submit",
    "service_point_for_address",
    "service_point_nearest",
]
