"""``report_submit``: the call is saved whatever happens; then it is merged or left."""

from __future__ import annotations

import logging
from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch_center.core.exceptions import DomainError
from grids.models import ServicePoint
from outages.models import Outage, TroubleReport

from .inputs import IntakeResult, ReportInput, Status
from .placement import (
    _open_nested,
    _Placement,
    _placement_of_input,
    _publish_danger,
    _request_rollup,
)
from .resolution import in_service_area
from .storage import _report_insert

logger = logging.getLogger(__name__)


def report_submit(
    *,
    data: ReportInput,
    actor: User | None,
    idempotency_client: str = "",
    idempotency_key: str | None = None,
    received_at: datetime | None = None,
) -> IntakeResult:
    """Record a trouble report and place it (see the module docstring).

    Deliberately not one transaction. The premise and the outage are looked up first, by
    reads only, and any failure there is caught: the report is then inserted as it stands
    (``received`` after a failure, for the sweeper) in one autocommitted statement, so
    nothing after the insert can lose the call and the common path costs one write. A
    nested outage, the only placement that writes, is opened after the insert. The
    ``Idempotency-Key`` is enforced by the unique constraint: a replay's insert fails and
    the first report is returned. Raises ``DomainError`` (400) for coordinates outside the
    service area and ``IdempotencyKeyReused`` (422) for a key reused with another body.
    """
    fingerprint = data.fingerprint()
    if data.lat is not None and data.lng is not None and not in_service_area(data.lat, data.lng):
        message = _("该位置不在深圳供电服务区域内。")
        raise DomainError(
            message, code="outside_service_area", fields={"lat": [message], "lng": [message]}
        )
    try:
        placement = _placement_of_input(data)
    except Exception:
        # Saved anyway as received; the sweeper processes it again.
        logger.exception("Resolving a trouble report failed; saving it as received")
        placement = _Placement()
    inserted = _report_insert(
        data=data,
        placement=placement,
        fingerprint=fingerprint,
        actor=actor,
        idempotency_client=idempotency_client,
        idempotency_key=idempotency_key,
        received_at=received_at or timezone.now(),
    )
    if isinstance(inserted, IntakeResult):
        return inserted  # a retry: the first report, unchanged
    report = inserted
    if placement.parent is not None and placement.service_point is not None:
        try:
            _nest_after_insert(report, placement.service_point, placement.parent)
        except Exception:
            logger.exception("Nested outage for report %s failed; left pending", report.pk)
    if report.status == Status.PENDING:
        transaction.on_commit(_request_rollup)
    if report.is_danger:
        _publish_danger(report)
    return IntakeResult(report=report, created=True)


@transaction.atomic
def _nest_after_insert(report: TroubleReport, service_point: ServicePoint, parent: Outage) -> None:
    """Open the nested outage of a just-inserted pending report and point the report at it."""
    status, outage = _open_nested(report, service_point, parent)
    if status == Status.PENDING:
        return
    TroubleReport.objects.filter(pk=report.pk, status=Status.PENDING).update(
        status=status, outage=outage, updated_at=timezone.now()
    )
    report.status, report.outage = status, outage
