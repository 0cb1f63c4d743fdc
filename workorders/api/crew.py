"""The crews' app: my orders, one action on an order, position pings, the grab pool."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from dispatch_center.core.api import DefaultPagination
from dispatch_center.core.exceptions import DomainError
from dispatch_center.core.parsers import SafeJSONParser
from dispatch_center.core.serializers import ErrorSerializer
from grids.models import Crew
from grids.selectors import reference as grid_reference
from outages.selectors import taxonomy
from workorders import selectors, services
from workorders.models import WorkOrder

from .access import IsCrewRole, request_actor, request_crew
from .serializers import WRITE_ERRORS, WorkOrderListItemSerializer


class CrewOrderSerializer(WorkOrderListItemSerializer):
    """An order as the crew's app shows it, with the actions it may take now."""

    class Meta:
        ref_name = "CrewOrder"

    description = serializers.CharField()
    findings = serializers.CharField()
    actions = serializers.SerializerMethodField()

    def get_actions(self, order: WorkOrder) -> list[str]:
        return services.crew_actions_allowed(order)


class CrewOrderListApi(APIView):
    """My crew's orders (open ones unless ``?status=all``), the most pressing first."""

    permission_classes = [IsAuthenticated, IsCrewRole]

    class PageSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CrewOrderPage"

        count = serializers.IntegerField()
        next = serializers.URLField(allow_null=True)
        previous = serializers.URLField(allow_null=True)
        results = CrewOrderSerializer(many=True)

    @extend_schema(
        operation_id="crew_orders",
        parameters=[OpenApiParameter("status", str, enum=["open", "all"], required=False)],
        responses={200: PageSerializer, 403: ErrorSerializer},
    )
    def get(self, request: Request) -> Response:
        crew = request_crew(request)
        which = request.query_params.get("status", "open")
        if which not in ("open", "all"):
            raise DomainError(
                _("status 只能是 open 或 all。"),
                code="invalid",
                fields={"status": [_("只能是 open 或 all。")]},
            )
        qs = selectors.crew_orders(crew=crew, open_only=which == "open")
        paginator = DefaultPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(CrewOrderSerializer(page, many=True).data)


class CrewOrderActionApi(APIView):
    """One step of the crew's work on an order. JSON, or multipart with ``photos`` files for
    findings. With an ``Idempotency-Key`` header, a retry gets the first answer (header
    ``Idempotent-Replayed: true``) and changes nothing."""

    permission_classes = [IsAuthenticated, IsCrewRole]
    parser_classes = [SafeJSONParser, MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CrewOrderActionInput"

        action = serializers.ChoiceField(choices=[(a, a) for a in services.CREW_ACTIONS])
        at = serializers.DateTimeField(required=False)
        lat = serializers.FloatField(required=False, min_value=-90, max_value=90)
        lng = serializers.FloatField(required=False, min_value=-180, max_value=180)
        note = serializers.CharField(required=False, default="", allow_blank=True, max_length=2000)
        cause = serializers.SlugRelatedField(
            slug_field="code",
            queryset=taxonomy.outage_causes(),
            required=False,
            allow_null=True,
        )
        device = serializers.SlugRelatedField(
            slug_field="code", queryset=grid_reference.devices(), required=False, allow_null=True
        )
        photos = serializers.ListField(child=serializers.FileField(), required=False, max_length=10)

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            # Shape only; which fields go with which action is the service's rule.
            if ("lat" in attrs) != ("lng" in attrs):
                raise serializers.ValidationError({"lng": [_("纬度和经度须同时提供。")]})
            return attrs

    @extend_schema(
        operation_id="crew_order_action",
        request={
            "application/json": InputSerializer,
            "multipart/form-data": InputSerializer,
        },
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
        responses={200: CrewOrderSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request, order_id: int) -> Response:
        crew = request_crew(request)
        order = selectors.work_order_get(order_id=order_id)
        services.crew_order_check(order=order, crew=crew)
        key = request.headers.get("Idempotency-Key", "").strip() or None
        if key is not None and len(key) > 100:
            raise DomainError(
                _("幂等键过长。"),
                code="invalid",
                fields={"Idempotency-Key": [_("最多 100 个字符。")]},
            )
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        code, body, replayed = services.crew_action_run(
            order=order,
            crew=crew,
            actor=request_actor(request),
            request=services.CrewAction(**data.validated_data),
            key=key,
            answer=lambda done: dict(CrewOrderSerializer(_crew_order(crew, done.pk)).data),
        )
        response = Response(body, status=code)
        if replayed:
            response["Idempotent-Replayed"] = "true"
        return response


def _crew_order(crew: Crew, order_id: int) -> WorkOrder:
    """The order as the crew's list shows it (annotated), or plainly once it left the list."""
    fresh = selectors.crew_orders(crew=crew, open_only=False).filter(pk=order_id).first()
    return fresh or selectors.work_order_get(order_id=order_id)


class CrewLocationPointSerializer(serializers.Serializer):
    """One ping: the device's timestamp and a WGS-84 position."""

    class Meta:
        ref_name = "CrewLocationPoint"

    at = serializers.DateTimeField()
    lat = serializers.FloatField(min_value=-90, max_value=90)
    lng = serializers.FloatField(min_value=-180, max_value=180)


class CrewLocationsApi(APIView):
    """A batch of position pings with device timestamps."""

    permission_classes = [IsAuthenticated, IsCrewRole]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CrewLocationsInput"

        points = serializers.ListField(
            child=CrewLocationPointSerializer(), min_length=1, max_length=500
        )

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CrewLocationsOutput"

        stored = serializers.IntegerField()
        position_updated = serializers.BooleanField()

    @extend_schema(
        operation_id="crew_locations",
        request=InputSerializer,
        responses={200: OutputSerializer, 400: ErrorSerializer, 403: ErrorSerializer},
    )
    def post(self, request: Request) -> Response:
        crew = request_crew(request)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        stored, moved = services.crew_locations_record(
            crew=crew,
            points=[(p["at"], p["lat"], p["lng"]) for p in data.validated_data["points"]],
        )
        return Response(self.OutputSerializer({"stored": stored, "position_updated": moved}).data)


class CrewPoolEntrySerializer(serializers.Serializer):
    """A published order as one crew sees it in the pool."""

    class Meta:
        ref_name = "CrewPoolEntry"

    id = serializers.IntegerField(source="order.pk")
    kind = serializers.CharField(source="order.kind")
    title = serializers.CharField(source="order.title")
    address = serializers.CharField(source="order.address")
    priority = serializers.IntegerField(source="order.priority")
    lat = serializers.FloatField(source="order.lat")
    lng = serializers.FloatField(source="order.lng")
    skill_needed = serializers.CharField(
        source="order.skill_needed.code", allow_null=True, default=None
    )
    distance_km = serializers.SerializerMethodField()
    bonus_points = serializers.IntegerField()
    waiting_since = serializers.DateTimeField(source="order.waiting_since")
    published_at = serializers.DateTimeField(source="order.published_at")
    expires_at = serializers.DateTimeField(source="order.pool_expires_at")
    arrive_due_at = serializers.DateTimeField(source="order.arrive_due_at", allow_null=True)

    def get_distance_km(self, entry: selectors.PoolEntry) -> float:
        return round(entry.distance_km, 3)


class CrewPoolStatsSerializer(serializers.Serializer):
    """A crew's grab-pool counters."""

    class Meta:
        ref_name = "CrewPoolStats"

    claims = serializers.IntegerField()
    skips = serializers.IntegerField()
    lost_races = serializers.IntegerField()
    bonus_points = serializers.IntegerField()


class CrewPoolApi(APIView):
    """The grab pool around my crew: published orders within the radius, most bonus points
    first, and my crew's pool statistics."""

    permission_classes = [IsAuthenticated, IsCrewRole]

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CrewPool"

        results = CrewPoolEntrySerializer(many=True)
        stats = CrewPoolStatsSerializer()

    @extend_schema(
        operation_id="crew_pool", responses={200: OutputSerializer, 403: ErrorSerializer}
    )
    def get(self, request: Request) -> Response:
        crew = request_crew(request)
        entries = selectors.pool_orders_for_crew(crew=crew)
        stats = selectors.crew_pool_stats(crew=crew)
        return Response(self.OutputSerializer({"results": entries, "stats": stats}).data)


class CrewPoolClaimApi(APIView):
    """Claim a published order; 409 ``already_taken`` when another crew was first."""

    permission_classes = [IsAuthenticated, IsCrewRole]

    @extend_schema(
        operation_id="crew_pool_claim",
        request=None,
        responses={200: CrewOrderSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request, order_id: int) -> Response:
        crew = request_crew(request)
        order = services.work_order_claim(
            order_id=order_id, crew=crew, actor=request_actor(request)
        )
        fresh = selectors.crew_orders(crew=crew, open_only=False).filter(pk=order.pk).first()
        return Response(CrewOrderSerializer(fresh).data)
