"""What intake takes and gives: the caller's input, the result, the replay error."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields

from dispatch_center.core.exceptions import DomainError
from outages.models import Outage, TroubleReport

Status = TroubleReport.Status
ACTOR_LABEL = "intake"


class IdempotencyKeyReused(DomainError):
    """The Idempotency-Key was already used for a different request."""

    code = "idempotency_key_reused"
    status_code = 422


@dataclass(frozen=True, slots=True)
class ReportInput:
    """What a caller submits. Exactly one way to locate the premise is expected: a service
    point (staff), an account number, an address, or coordinates."""

    channel: str
    symptom: str
    contact_phone: str
    contact_name: str = ""
    description: str = ""
    account_no: str = ""
    address: str = ""
    lat: float | None = None
    lng: float | None = None
    service_point_id: int | None = None

    def fingerprint(self) -> str:
        """SHA-256 of the canonical body, to tell a retry from another request."""
        # The same JSON as ``dataclasses.asdict`` gives (the values are primitives), without
        # its recursive copy: stored fingerprints keep matching their retries.
        body = json.dumps(
            {name: getattr(self, name) for name in _INPUT_FIELDS},
            sort_keys=True,
            ensure_ascii=False,
            default=str,
        )
        return hashlib.sha256(body.encode()).hexdigest()


_INPUT_FIELDS = tuple(f.name for f in fields(ReportInput))


@dataclass(frozen=True, slots=True)
class IntakeResult:
    """The report as it stands after intake; ``created`` is False for an idempotent replay."""

    report: TroubleReport
    created: bool

    @property
    def outage(self) -> Outage | None:
        return self.report.outage
