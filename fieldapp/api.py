"""The endpoints the crews' app needed beyond the crew API (``workorders.api.crew``): who I
am and my duty, an order's device history, spare parts, the customer's sign-off."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from dispatch_center.core.exceptions import DomainError
from dispatch_center.core.i18n import local_name
from dispatch_center.core.serializers import ErrorSerializer
from workorders import selectors as order_selectors
from workorders import services as order_services
from workorders.api.access import IsCrewRole, request_actor, request_crew
from workorders.models import WorkOrder

from . import selectors, services
from .models import PartMove, SparePart

ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid input (per-field messages)."),
    403: OpenApiResponse(ErrorSerializer, description="Not a crew member, or not your order."),
    404: OpenApiResponse(ErrorSerializer, description="No such work order."),
}


def _idempotency_key(request: Request) -> str | None:
    key = request.headers.get("Idempotency-Key", "").strip() or None
    if key is not None and len(key) > 100:
        message = _("最多 100 个字符。")
        raise DomainError(_("幂等键过长。"), code="invalid", fields={"Idempotency-Key": [message]})
    return key


def _own_order(request: Request, order_id: int) -> WorkOrder:
    """The order, if it is the asking crew's (404, then 403 ``not_your_order``)."""
    order = order_selectors.work_order_get(order_id=order_id)
    order_services.crew_order_check(order=order, crew=request_crew(request))
    return order


class _CauseSerializer(serializers.Serializer):
    class Meta:
        ref_name = "CrewCause"

    code = serializers.CharField()
    name = serializers.CharField()


class CrewMeSerializer(serializers.Serializer):
    class Meta:
        ref_name = "CrewMe"

    username = serializers.CharField()
    crew_id = serializers.IntegerField()
    crew_code = serializers.CharField()
    crew_name = serializers.CharField()
    station = serializers.CharField()
    on_duty = serializers.BooleanField()
    status = serializers.CharField()
    status_display = serializers.CharField()
    causes = _CauseSerializer(many=True)


def _me(request: Request) -> dict[str, Any]:
    crew = request_crew(request)
    crew.refresh_from_db()
    return {
        "username": request.user.get_username(),
        "crew_id": crew.pk,
        "crew_code": crew.code,
        "crew_name": crew.name,
        "station": crew.station.name,
        "on_duty": crew.on_duty,
        "status": crew.status,
        "status_display": crew.get_status_display(),
        "causes": [{"code": c.code, "name": local_name(c)} for c in selectors.outage_causes()],
    }


class CrewMeApi(APIView):
    """The signed-in crew member, the crew and whether it is on duty."""

    permission_classes = [IsAuthenticated, IsCrewRole]

    @extend_schema(operation_id="crew_me", responses={200: CrewMeSerializer, 403: ErrorSerializer})
    def get(self, request: Request) -> Response:
        return Response(CrewMeSerializer(_me(request)).data)


class CrewDutyApi(APIView):
    """Set my crew on or off duty (off: its offers not yet accepted are re-dispatched)."""

    permission_classes = [IsAuthenticated, IsCrewRole]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CrewDutyInput"

        on_duty = serializers.BooleanField()

    @extend_schema(
        operation_id="crew_duty",
        request=InputSerializer,
        responses={200: CrewMeSerializer, 400: ErrorSerializer, 403: ErrorSerializer},
    )
    def post(self, request: Request) -> Response:
        crew = request_crew(request)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order_services.crew_set_on_duty(
            crew=crew, on_duty=data.validated_data["on_duty"], actor=request_actor(request)
        )
        return Response(CrewMeSerializer(_me(request)).data)


class _DeviceSerializer(serializers.Serializer):
    class Meta:
        ref_name = "CrewHistoryDevice"

    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField(source="get_kind_display")


class _PastOrderSerializer(serializers.Serializer):
    class Meta:
        ref_name = "CrewHistoryOrder"

    id = serializers.IntegerField()
    title = serializers.CharField()
    status = serializers.CharField()
    status_display = serializers.CharField(source="get_status_display")
    created_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)
    cause = serializers.CharField(source="cause.name", allow_null=True, default=None)
    findings = serializers.CharField()
    crew = serializers.CharField(source="crew.name", allow_null=True, default=None)


class CrewOrderHistoryApi(APIView):
    """The device history of my order: its device and transformer, earlier orders on them
    with their findings, the ones still open, and the callers' numbers and symptoms."""

    permission_classes = [IsAuthenticated, IsCrewRole]

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CrewOrderHistory"

        device = _DeviceSerializer(allow_null=True)
        transformer = _DeviceSerializer(allow_null=True)
        previous = _PastOrderSerializer(many=True)
        open_orders = _PastOrderSerializer(many=True)
        contact_phones = serializers.ListField(child=serializers.CharField())
        symptoms = serializers.ListField(child=serializers.CharField())

    @extend_schema(
        operation_id="crew_order_history",
        responses={200: OutputSerializer, 403: ErrorSerializer, 404: ErrorSerializer},
    )
    def get(self, request: Request, order_id: int) -> Response:
        order = _own_order(request, order_id)
        history = selectors.order_device_history(order=order)
        return Response(self.OutputSerializer(history).data)


class _StockSerializer(serializers.Serializer):
    class Meta:
        ref_name = "CrewPartStock"

    station_id = serializers.IntegerField()
    station = serializers.CharField(source="station.name")
    quantity = serializers.IntegerField()


class _PartSerializer(serializers.Serializer):
    class Meta:
        ref_name = "CrewSparePart"

    code = serializers.CharField()
    name = serializers.CharField()
    unit = serializers.CharField()
    my_station = serializers.IntegerField()
    stock = _StockSerializer(many=True)


class CrewPartsApi(APIView):
    """The spare-parts catalogue with each station's stock and my station's."""

    permission_classes = [IsAuthenticated, IsCrewRole]

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CrewParts"

        station_id = serializers.IntegerField()
        results = _PartSerializer(many=True)

    @extend_schema(
        operation_id="crew_parts", responses={200: OutputSerializer, 403: ErrorSerializer}
    )
    def get(self, request: Request) -> Response:
        crew = request_crew(request)
        parts = []
        for part in selectors.spare_parts_with_stock():
            rows = list(part.stock.all())
            mine = next((r.quantity for r in rows if r.station_id == crew.station_id), 0)
            parts.append(
                {
                    "code": part.code,
                    "name": part.name,
                    "unit": part.unit,
                    "my_station": mine,
                    "stock": rows,
                }
            )
        body = {"station_id": crew.station_id, "results": parts}
        return Response(self.OutputSerializer(body).data)


class PartMoveSerializer(serializers.Serializer):
    class Meta:
        ref_name = "CrewPartMove"

    id = serializers.IntegerField()
    kind = serializers.CharField()
    kind_display = serializers.CharField(source="get_kind_display")
    part = serializers.CharField(source="part.code")
    part_name = serializers.CharField(source="part.name")
    quantity = serializers.IntegerField()
    at = serializers.DateTimeField()
    station_stock = serializers.SerializerMethodField()
    held = serializers.SerializerMethodField()

    def get_station_stock(self, move: PartMove) -> int:
        return selectors.station_stock(station_id=move.station_id, part=move.part)

    def get_held(self, move: PartMove) -> int:
        return selectors.part_held(order=move.order, crew=move.crew, part=move.part)


class CrewOrderPartsApi(APIView):
    """GET: the part moves of my order. POST: take parts from my station for it
    (``request``), record what was used (``use``) or give back the rest (``return``); the
    station's stock never goes below zero (400 ``insufficient_stock``). With an
    ``Idempotency-Key`` a retry gets the first answer (``Idempotent-Replayed: true``)."""

    permission_classes = [IsAuthenticated, IsCrewRole]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CrewPartMoveInput"

        action = serializers.ChoiceField(choices=PartMove.Kind.choices)
        part = serializers.SlugRelatedField(
            slug_field="code", queryset=SparePart.objects.filter(is_active=True)
        )
        quantity = serializers.IntegerField(min_value=1, max_value=1000)
        at = serializers.DateTimeField(required=False)

    @extend_schema(
        operation_id="crew_order_parts",
        responses={200: PartMoveSerializer(many=True), 403: ErrorSerializer, 404: ErrorSerializer},
    )
    def get(self, request: Request, order_id: int) -> Response:
        order = _own_order(request, order_id)
        moves = selectors.order_part_moves(order=order)
        return Response(PartMoveSerializer(moves, many=True).data)

    @extend_schema(
        operation_id="crew_order_part_move",
        request=InputSerializer,
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
        responses={
            201: PartMoveSerializer,
            200: OpenApiResponse(PartMoveSerializer, description="Replay of the key."),
            **ERRORS,
        },
    )
    def post(self, request: Request, order_id: int) -> Response:
        order = _own_order(request, order_id)
        key = _idempotency_key(request)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        move, replayed = services.part_move_record(
            order=order,
            crew=request_crew(request),
            actor=request_actor(request),
            kind=v["action"],
            part=v["part"],
            quantity=v["quantity"],
            at=v.get("at"),
            key=key,
        )
        response = Response(PartMoveSerializer(move).data, status=200 if replayed else 201)
        if replayed:
            response["Idempotent-Replayed"] = "true"
        return response


class SignoffSerializer(serializers.Serializer):
    class Meta:
        ref_name = "CrewSignoff"

    order_id = serializers.IntegerField()
    kind = serializers.CharField()
    signer_name = serializers.CharField()
    image = serializers.CharField(source="image.url")
    at = serializers.DateTimeField()


class CrewOrderSignoffApi(APIView):
    """The customer's sign-off of my order (multipart): a signature drawn on the phone
    (PNG, with the signer's name) or, with ``customer_absent``, a photo of the site. One per
    order: sending it again answers 200 with the first one. Before arrival: 409."""

    permission_classes = [IsAuthenticated, IsCrewRole]
    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CrewSignoffInput"

        image = serializers.FileField()
        customer_absent = serializers.BooleanField(required=False, default=False)
        signer_name = serializers.CharField(
            required=False, default="", allow_blank=True, max_length=64
        )
        at = serializers.DateTimeField(required=False)

    @extend_schema(
        operation_id="crew_order_signoff",
        request={"multipart/form-data": InputSerializer},
        responses={
            201: SignoffSerializer,
            200: OpenApiResponse(SignoffSerializer, description="Already signed off."),
            409: OpenApiResponse(ErrorSerializer, description="Not on site yet."),
            **ERRORS,
        },
    )
    def post(self, request: Request, order_id: int) -> Response:
        order = _own_order(request, order_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        signoff, created = services.order_signoff_record(
            order=order,
            crew=request_crew(request),
            customer_absent=v["customer_absent"],
            image=v["image"],
            signer_name=v["signer_name"],
            at=v.get("at"),
        )
        return Response(SignoffSerializer(signoff).data, status=201 if created else 200)
