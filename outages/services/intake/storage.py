"""Writing a report: one autocommitted insert; the Idempotency-Key's replay."""

from __future__ import annotations

import secrets
from datetime import datetime
from functools import cache

from django.contrib.auth.models import User
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch_center.core.exceptions import DomainError
from dispatch_center.core.inserts import insert_row
from outages.models import TroubleReport

from .inputs import IdempotencyKeyReused, IntakeResult, ReportInput
from .placement import _Placement

# Unambiguous characters only: a reference is read out over the phone.
REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
REFERENCE_LENGTH = 6
assert len(REFERENCE_ALPHABET) == 32  # noqa: S101 - _new_reference relies on it


# The text columns a caller fills; every other column is built here (reference, status,
# fingerprint, times) or is a key the database checks.
_CALLER_TEXT = (
    "channel",
    "symptom",
    "contact_phone",
    "contact_name",
    "raw_address",
    "raw_account_no",
    "description",
    "idempotency_client",
    "idempotency_key",
)


@cache
def _text_rules() -> tuple[tuple[str, int | None, frozenset[str] | None, bool, bool], ...]:
    """(attname, max_length, choices, blank, null) of the caller's text columns."""
    rules = []
    for name in _CALLER_TEXT:
        field = TroubleReport._meta.get_field(name)
        assert isinstance(field, models.Field)  # noqa: S101 - a column, not a relation
        choices = frozenset(str(v) for v, _label in field.flatchoices) if field.choices else None
        rules.append((field.attname, field.max_length, choices, field.blank, field.null))
    return tuple(rules)


def _fields_plainly_valid(report: TroubleReport) -> bool:
    """True when ``full_clean``'s field checks would pass, decided without running them.

    The API's serializers have already checked the caller's values against the same limits
    (lengths, choices, non-blank): re-running every field's validators on the per-call path
    was a second validation. This cheap test of the caller's columns confirms it; anything
    it does not plainly accept (another caller, an odd type) goes through ``full_clean``,
    which raises the same ``ValidationError`` as before.
    """
    for attname, max_length, choices, blank, null in _text_rules():
        value = getattr(report, attname)
        if value is None:
            if not null:
                return False
            continue
        if type(value) is not str or (max_length is not None and len(value) > max_length):
            return False
        if value == "":
            if not blank:
                return False
        elif choices is not None and value not in choices:
            return False
    return all(
        value is None or type(value) is float for value in (report.lat, report.lng)
    ) and isinstance(report.received_at, datetime)


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
    # 32 letters: a random byte modulo 32 is uniform, one system call for the whole tail.
    tail = "".join(REFERENCE_ALPHABET[b % 32] for b in secrets.token_bytes(REFERENCE_LENGTH))
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
        if not _fields_plainly_valid(report):
            # Field checks only: keys, uniqueness and constraints are the database's.
            report.full_clean(
                exclude=["created_by", "service_point", "outage"],
                validate_unique=False,
                validate_constraints=False,
            )
        try:
            if connection.in_atomic_block:
                # Inside a caller's transaction a failed insert must not break it.
                with transaction.atomic():
                    insert_row(report)
            else:
                # Autocommit: one round trip, and the report is committed at once.
                insert_row(report)
        except IntegrityError:
            if idempotency_key:
                existing = _find_by_key(idempotency_client, idempotency_key)
                if existing is not None:
                    return _replay(existing, fingerprint)
            continue  # the reference was taken: draw another
        return report
    raise DomainError(_("暂时无法生成报修编号，请稍后重试。"), code="reference_exhausted")
