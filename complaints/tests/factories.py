"""Helpers that build complaints through the services."""

from typing import Any

from django.utils import timezone

from complaints import services
from complaints.models import Complaint


def make_complaint(sp: Any = None, *, category: str = "outage_long", **kwargs: Any) -> Complaint:
    return services.complaint_create(
        category_code=category,
        channel=kwargs.pop("channel", Complaint.Channel.HOTLINE),
        text=kwargs.pop("text", "停电时间太长，一直没人来修。"),
        phone=kwargs.pop("phone", "13800000001"),
        service_point_id=sp.pk if sp is not None else None,
        **kwargs,
    )


def force_status(complaint: Complaint, status: str, **extra: Any) -> Complaint:
    """Put ``complaint`` in ``status`` directly (test setup), keeping the invariants."""
    now = timezone.now()
    fields: dict[str, Any] = {"status": status, **extra}
    if status != Complaint.Status.REGISTERED:
        fields.setdefault("contacted_at", now)
    if status in (Complaint.Status.REPLIED, Complaint.Status.CLOSED):
        fields.setdefault("replied_at", now)
        fields.setdefault("reply", "已答复")
    fields["closed_at"] = now if status == Complaint.Status.CLOSED else None
    Complaint.objects.filter(pk=complaint.pk).update(**fields)
    complaint.refresh_from_db()
    return complaint
