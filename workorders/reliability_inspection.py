"""Raising an inspection work order from a frequent-outage alert.

``reliability`` sits below ``workorders``: it records the link through its own service
(``alert_link_work_order``); the order itself is raised here. Raising twice for one alert
returns the first order.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from dispatch_center.core import roles
from dispatch_center.core.permissions import HasRole
from reliability import selectors as reliability_selectors
from reliability import services as reliability_services
from workorders.models import WorkOrder
from workorders.services import work_order_create


@transaction.atomic
def inspection_raise_for_alert(*, alert_id: int, actor: User) -> WorkOrder:
    """An inspection order at the alert's customer, linked to the alert (idempotent)."""
    alert = reliability_selectors.alert_get(alert_id=alert_id)
    if alert.work_order_id is not None:
        existing = WorkOrder.objects.filter(pk=alert.work_order_id).first()
        if existing is not None:
            return existing
    sp = alert.service_point
    order = work_order_create(
        kind=WorkOrder.Kind.INSPECTION,
        title=_("频繁停电巡视：%(address)s") % {"address": sp.address},
        description="\n".join(alert.reasons),
        actor=actor,
        service_point=sp,
    )
    reliability_services.alert_link_work_order(
        alert=alert,
        work_order_id=order.pk,
        actor=actor,
        note=_("已派巡视工单 %(id)s") % {"id": order.pk},
    )
    return order


class InspectionFromAlertApi(APIView):
    """Raise (or return) the inspection work order of a frequent-outage alert."""

    permission_classes = [IsAuthenticated, HasRole(roles.DISPATCHER, roles.SUPERVISOR)]

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        kind = serializers.CharField()
        status = serializers.CharField()
        title = serializers.CharField()

    @extend_schema(request=None, responses={201: OutputSerializer})
    def post(self, request: Request, alert_id: int) -> Response:
        user: User = request.user  # type: ignore[assignment]
        order = inspection_raise_for_alert(alert_id=alert_id, actor=user)
        return Response(self.OutputSerializer(order).data, status=201)
