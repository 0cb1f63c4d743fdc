"""Writing a report: one autocommitted insert; the Idempotency-Key's replay."""

from __future__ import annotations

import secrets
from datetime import datetime

from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch_center.core.exceptions import DomainError
from outages.models import TroubleReport

from .inputs import IdempotencyKeyReused, IntakeResult, ReportInput
from .placement import _Placement

# Unambiguous characters only: a reference is read out over the phone.
REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
REFERENCE_LENGTH = 6


def _find_by_key(client: str, key: str) -> TroubleReport | None:
    return (
        TroubleReport.objects.select_related("outage__type__category", "outage__cause")
        .filter(idempotency_client=client, idempotency_key=key)
        .first()
    )


def _replay(existing: TroubleReport, fingerprint: str) -> IntakeResult:
    if existing.request_fingerprint and existing.request_fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            _("该 Idempotency-Key 已用于另一份不同内容的报修，请为新的报修使用新的 Key。")
        )
    return IntakeResult(report=existing, created=False)


def _new_reference(day: datetime) -> str:
    tail = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))
    return f"R{timezone.localtime(day):%Y%m%d}-{tail}"


def _report_insert(
    *,
    data: ReportInput,
    placement: _Placement,
    fingerprint: str,
    actor: User | None,
    idempotency_client: str,
    idempotency_key: str | None,
    received_at: datetime,
) -> TroubleReport | IntakeResult:
    """Insert the report as placed; a reference collision draws again, a known key replays."""
    for _attempt in range(5):
        report = TroubleReport(
            reference=_new_reference(received_at),
            channel=data.channel,
            contact_phone=data.contact_phone,
            contact_name=data.contact_name,
            raw_address=data.address,
            raw_account_no=data.account_no,
            lat=data.lat,
            lng=data.lng,
            symptom=data.symptom,
            description=data.description,
            status=placement.status,
            service_point=placement.service_point,
            outage=placement.outage,
            resolved_at=received_at if placement.service_point is not None else None,
            idempotency_client=idempotency_client,
            idempotency_key=idempotency_key or None,
            request_fingerprint=fingerprint,
            received_at=received_at,
            created_by=actor if actor is not None and actor.is_authenticated else None,
        )
        # Field checks only: keys, uniqueness and constraints are the database's (no queries).
        report.full_clean(
            exclude=["created_by", "service_point", "outage"],
            validate_unique=False,
            validate_constraints=False,
        )
        try:
            if connection.in_atomic_block:
                # Inside a caller's transaction a failed insert must not break it.
                with transaction.atomic():
                    report.save(force_insert=True)
            else:
                # Autocommit: one round trip, and the report is committed at once.
                report.save(force_insert=True)
        except IntegrityError:
            if idempotency_key:
                existing = _find_by_key(idempotency_client, idempotency_key)
                if existing is not None:
                    return _replay(existing, fingerprint)
            continue  # the reference was taken: draw another
        return report
    raise DomainError(_("暂时无法生成报修编号，请稍后重试。"), code="reference_exhausted")
