"""Writes of the crews' app: spare-part moves (stock never below zero) and the customer's
sign-off. Duty and the order actions go through ``workorders.services``."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch_center.core.exceptions import Conflict, DomainError
from grids.models import Crew
from workorders import services as order_services
from workorders.models import WorkOrder

from . import selectors
from .models import CustomerSignoff, PartMove, SparePart, StationStock

CLOCK_SKEW_SECONDS = 300


def _refuse(field: str, message: str, code: str = "invalid") -> DomainError:
    return DomainError(message, code=code, fields={field: [message]})


def _device_time(at: datetime | None) -> datetime:
    now = timezone.now()
    if at is None:
        return now
    if (at - now).total_seconds() > CLOCK_SKEW_SECONDS:
        raise _refuse("at", _("时间不能晚于当前时间。"))
    return at


def stock_qs_for_update(*, station_id: int, part: SparePart) -> StationStock:
    """The stock row of ``part`` at the station, locked (created at zero when missing)."""
    StationStock.objects.get_or_create(station_id=station_id, part=part)
    return StationStock.objects.select_for_update().get(station_id=station_id, part=part)


def _fingerprint(payload: dict[str, Any]) -> str:
    blob = json.dumps(payload, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()


@transaction.atomic
def part_move_record(
    *,
    order: WorkOrder,
    crew: Crew,
    actor: User | None,
    kind: str,
    part: SparePart,
    quantity: int,
    at: datetime | None = None,
    key: str | None = None,
) -> tuple[PartMove, bool]:
    """Record a part move of the crew on its order; returns (move, replayed).

    ``request`` takes parts from the crew's station (its stock goes down), ``use`` spends
    what the crew took for the order, ``return`` gives it back to the station. The station's
    stock row is locked first, so concurrent moves of one part queue up and the stock never
    goes below zero (400 ``insufficient_stock`` / ``insufficient_parts`` instead; the
    database's check constraint is the last guard). With ``key`` a retry gets the first move
    back unchanged; the same key with another body is refused (422).
    """
    order_services.crew_order_check(order=order, crew=crew)
    if order.status not in WorkOrder.OPEN:
        raise _refuse("order", _("工单已结束，不能再领用或消耗备件。"), "order_closed")
    when = _device_time(at)
    fingerprint = _fingerprint(
        {"order": order.pk, "kind": kind, "part": part.code, "quantity": quantity, "at": at}
    )
    stock = stock_qs_for_update(station_id=crew.station_id, part=part)
    if key:
        first = PartMove.objects.filter(crew=crew, key=key).first()
        if first is not None:
            if first.fingerprint != fingerprint:
                raise Conflict(_("该幂等键已用于另一个请求。"), code="idempotency_key_reused")
            return first, True
    if kind == PartMove.Kind.REQUEST:
        if stock.quantity < quantity:
            message = _("库存不足：本站仅剩 %(n)s。") % {"n": stock.quantity}
            raise _refuse("quantity", message, "insufficient_stock")
        stock.quantity -= quantity
    else:
        held = selectors.part_held(order=order, crew=crew, part=part)
        if held < quantity:
            message = _("本工单领用的该备件仅剩 %(n)s。") % {"n": held}
            raise _refuse("quantity", message, "insufficient_parts")
        if kind == PartMove.Kind.RETURN:
            stock.quantity += quantity
    stock.full_clean()
    stock.save(update_fields=["quantity", "updated_at"])
    move = PartMove(
        kind=kind,
        part=part,
        station_id=crew.station_id,
        quantity=quantity,
        order=order,
        crew=crew,
        actor=actor,
        key=key or "",
        fingerprint=fingerprint,
        at=when,
    )
    move.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            move.save()
    except IntegrityError:
        # The same key on another part (another stock row, so not serialised above).
        raise Conflict(_("该幂等键已用于另一个请求。"), code="idempotency_key_reused") from None
    return move, False


@transaction.atomic
def order_signoff_record(
    *,
    order: WorkOrder,
    crew: Crew,
    customer_absent: bool,
    image: UploadedFile,
    signer_name: str = "",
    at: datetime | None = None,
) -> tuple[CustomerSignoff, bool]:
    """Store the customer's sign-off of an order the crew has reached: the drawn signature,
    or with the customer absent a photo of the site. One per order: sending it again (a
    retry from the phone's outbox) returns the first one; returns (sign-off, created).
    Before arrival it is refused (409 ``not_on_site``)."""
    order_services.crew_order_check(order=order, crew=crew)
    existing = CustomerSignoff.objects.filter(order=order).first()
    if existing is not None:
        return existing, False
    if order.arrived_at is None:
        raise Conflict(_("到达现场后才能请客户签字。"), code="not_on_site")
    content_type = order_services.photo_check(image)
    if not customer_absent and content_type != "image/png":
        raise _refuse("image", _("签名须为 PNG 图片。"))
    if not customer_absent and not signer_name.strip():
        raise _refuse("signer_name", _("请填写签字人。"))
    signoff = CustomerSignoff(
        order=order,
        crew=crew,
        kind=CustomerSignoff.Kind.ABSENT if customer_absent else CustomerSignoff.Kind.SIGNATURE,
        signer_name=signer_name.strip(),
        content_type=content_type,
        at=_device_time(at),
    )
    signoff.image.save("signoff", image, save=False)
    signoff.full_clean(exclude=["image"])
    try:
        with transaction.atomic():
            signoff.save()
    except IntegrityError:
        return CustomerSignoff.objects.get(order=order), False
    return signoff, True
