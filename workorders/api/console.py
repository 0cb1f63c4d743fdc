"""The dispatcher console's endpoints: the order list, summary, detail and suggestions, and
the writes (create, dispatch, publish, cancel, merge, close, return visit, outage ETR and
confirmation). A write that carries the ``version`` the client saw passes it to the service's
compare-and-set: a stale one answers 409 instead of overwriting."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from dispatch_center.core.api import DefaultPagination
from dispatch_center.core.exceptions import DomainError
from dispatch_center.core.serializers import ErrorSerializer
from grids.selectors import reference as grid_reference
from workorders import selectors, services
from workorders.models import WorkOrder

from .access import CanReadOrders, CanWriteOrders, request_actor
from .serializers import (
    WRITE_ERRORS,
    WorkOrderDetailSerializer,
    WorkOrderListItemSerializer,
    order_detail,
)

Status = WorkOrder.Status


class _PageSerializer(serializers.Serializer):
    class Meta:
        ref_name = "WorkOrderPage"

    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = WorkOrderListItemSerializer(many=True)


# --- console: reads -------------------------------------------------------------------------------


class WorkOrderListApi(APIView):
    """Work orders, most pressing first, filtered and paginated; POST raises one by hand."""

    def get_permissions(self) -> list[BasePermission]:
        if self.request.method == "POST":
            return [IsAuthenticated(), CanWriteOrders()]
        return [IsAuthenticated(), CanReadOrders()]

    class FilterSerializer(serializers.Serializer):
        class Meta:
            ref_name = "WorkOrderListFilter"

        status = serializers.MultipleChoiceField(choices=Status.choices, required=False)
        kind = serializers.MultipleChoiceField(choices=WorkOrder.Kind.choices, required=False)
        open = serializers.BooleanField(required=False, allow_null=True, default=None)
        grid = serializers.IntegerField(required=False, min_value=1)
        district = serializers.IntegerField(required=False, min_value=1)
        crew = serializers.IntegerField(required=False, min_value=1)
        outage = serializers.IntegerField(required=False, min_value=1)
        sla_state = serializers.MultipleChoiceField(
            choices=WorkOrder.SlaState.choices, required=False
        )
        urgent = serializers.BooleanField(required=False, allow_null=True, default=None)
        q = serializers.CharField(required=False, max_length=100)
        created_since = serializers.DateTimeField(required=False)
        page = serializers.IntegerField(required=False, min_value=1)
        page_size = serializers.IntegerField(required=False, min_value=1, max_value=500)

    class CreateSerializer(serializers.Serializer):
        class Meta:
            ref_name = "WorkOrderCreateInput"

        kind = serializers.ChoiceField(
            choices=[
                (k.value, k.label)
                for k in (
                    WorkOrder.Kind.PREMISE_REPAIR,
                    WorkOrder.Kind.DANGER,
                    WorkOrder.Kind.INSPECTION,
                    WorkOrder.Kind.PLANNED_WORK,
                    WorkOrder.Kind.COMPLAINT_FOLLOW_UP,
                )
            ]
        )
        title = serializers.CharField(max_length=120)
        description = serializers.CharField(required=False, default="", allow_blank=True)
        priority = serializers.IntegerField(required=False, min_value=1, max_value=4)
        address = serializers.CharField(
            required=False, default="", allow_blank=True, max_length=300
        )
        lat = serializers.FloatField(required=False, min_value=-90, max_value=90)
        lng = serializers.FloatField(required=False, min_value=-180, max_value=180)
        service_point = serializers.PrimaryKeyRelatedField(
            queryset=grid_reference.service_points(related=("grid",)), required=False
        )
        grid = serializers.PrimaryKeyRelatedField(queryset=grid_reference.grids(), required=False)

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            if ("lat" in attrs) != ("lng" in attrs):
                raise serializers.ValidationError({"lng": [_("纬度和经度须同时提供。")]})
            if "lat" not in attrs and "service_point" not in attrs and "grid" not in attrs:
                raise serializers.ValidationError({"lat": [_("请提供位置：经纬度、用户或网格。")]})
            return attrs

    @extend_schema(
        operation_id="work_orders_list",
        parameters=[FilterSerializer],
        responses={200: _PageSerializer, 400: ErrorSerializer, 403: ErrorSerializer},
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        qs = selectors.work_order_list(filters=filters.validated_data)
        paginator = DefaultPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(WorkOrderListItemSerializer(page, many=True).data)

    @extend_schema(
        operation_id="work_orders_create",
        request=CreateSerializer,
        responses={201: WorkOrderDetailSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = self.CreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = services.work_order_create(actor=request_actor(request), **data.validated_data)
        return Response(order_detail(order.pk), status=status.HTTP_201_CREATED)


class WorkOrderSummaryApi(APIView):
    """Open orders per status, SLA warnings and breaches (the console's header)."""

    permission_classes = [IsAuthenticated, CanReadOrders]

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "WorkOrderSummary"

        created = serializers.IntegerField()
        rejected = serializers.IntegerField()
        published = serializers.IntegerField()
        dispatched = serializers.IntegerField()
        claimed = serializers.IntegerField()
        accepted = serializers.IntegerField()
        en_route = serializers.IntegerField()
        on_site = serializers.IntegerField()
        completed = serializers.IntegerField()
        return_visit = serializers.IntegerField()
        sla_warning = serializers.IntegerField()
        sla_breached = serializers.IntegerField()

    @extend_schema(operation_id="work_orders_summary", responses={200: OutputSerializer})
    def get(self, request: Request) -> Response:
        return Response(selectors.work_order_counts_by_status())


class WorkOrderDetailApi(APIView):
    """One work order: timeline, decisions with "why this crew", refusals, photos."""

    permission_classes = [IsAuthenticated, CanReadOrders]

    @extend_schema(
        operation_id="work_orders_retrieve",
        responses={200: WorkOrderDetailSerializer, 403: ErrorSerializer, 404: ErrorSerializer},
    )
    def get(self, request: Request, order_id: int) -> Response:
        return Response(order_detail(order_id))


class _ExplanationSerializer(serializers.Serializer):
    class Meta:
        ref_name = "WorkOrderScoreComponent"

    code = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    minutes = serializers.FloatField()


class _CrewBriefSerializer(serializers.Serializer):
    class Meta:
        ref_name = "WorkOrderCrewBrief"

    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    status = serializers.CharField()
    on_duty = serializers.BooleanField()
    station = serializers.CharField()
    lat = serializers.FloatField(allow_null=True)
    lng = serializers.FloatField(allow_null=True)


class _SuggestionSerializer(serializers.Serializer):
    class Meta:
        ref_name = "WorkOrderSuggestion"

    crew_id = serializers.IntegerField()
    crew = _CrewBriefSerializer()
    cost = serializers.FloatField()
    distance_km = serializers.FloatField()
    travel_min = serializers.FloatField()
    components = serializers.DictField(child=serializers.FloatField())
    explanation = _ExplanationSerializer(many=True)
    open_orders = serializers.IntegerField()
    capacity = serializers.IntegerField()


class _FilteredCrewSerializer(serializers.Serializer):
    class Meta:
        ref_name = "WorkOrderFilteredCrew"

    crew_id = serializers.IntegerField()
    crew = _CrewBriefSerializer()
    reasons = serializers.ListField(child=serializers.CharField())
    reason_labels = serializers.ListField(child=serializers.CharField())
    distance_km = serializers.FloatField(allow_null=True)


class _OnDutyCrewSerializer(serializers.Serializer):
    class Meta:
        ref_name = "WorkOrderOnDutyCrew"

    crew_id = serializers.IntegerField()
    crew = _CrewBriefSerializer()
    eligible = serializers.BooleanField()
    reasons = serializers.ListField(child=serializers.CharField())
    reason_labels = serializers.ListField(child=serializers.CharField())
    distance_km = serializers.FloatField(allow_null=True)
    open_orders = serializers.IntegerField()
    capacity = serializers.IntegerField()


class WorkOrderSuggestionsApi(APIView):
    """Crews ranked for this order now (what auto-dispatch would pick), with the score
    components, the nearest crews filtered out with their reasons, and every on-duty crew the
    dispatcher may pick by hand (``on_duty``: overriding the filters needs a reason)."""

    permission_classes = [IsAuthenticated, CanWriteOrders]

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "WorkOrderSuggestions"

        candidates = _SuggestionSerializer(many=True)
        filtered_out = _FilteredCrewSerializer(many=True)
        outcome = serializers.CharField()
        outcome_label = serializers.CharField()
        on_duty = _OnDutyCrewSerializer(many=True)

    @extend_schema(
        operation_id="work_orders_suggestions",
        parameters=[OpenApiParameter("limit", int, required=False)],
        responses={200: OutputSerializer, 403: ErrorSerializer, 404: ErrorSerializer},
    )
    def get(self, request: Request, order_id: int) -> Response:
        try:
            limit = max(1, min(50, int(request.query_params.get("limit", 10))))
        except ValueError:
            raise DomainError(
                _("limit 必须是整数。"), code="invalid", fields={"limit": [_("必须是整数。")]}
            ) from None
        order = selectors.work_order_get(order_id=order_id)
        answer = selectors.work_order_suggestions(order=order, limit=limit)
        answer["outcome_label"] = (
            selectors.reason_label(answer["outcome"]) if answer["outcome"] else ""
        )
        answer["on_duty"] = selectors.work_order_on_duty_crews(order=order)
        return Response(answer)


# --- console: writes ------------------------------------------------------------------------------


class _VersionedInput(serializers.Serializer):
    """The version the client saw (passed to the service's compare-and-set): a stale one
    answers 409 instead of overwriting."""

    class Meta:
        ref_name = "WorkOrderVersionedInput"

    version = serializers.IntegerField(required=False, min_value=1, source="expected_version")
    reason = serializers.CharField(required=False, default="", allow_blank=True, max_length=1000)


def _write(
    request: Request,
    order_id: int,
    input_class: type[serializers.Serializer],
    service: Callable[..., object],
) -> Response:
    """Validate ``input_class``, call ``service`` on the order with the values (the version
    seen goes in as ``expected_version``), answer the order's detail."""
    data = input_class(data=request.data)
    data.is_valid(raise_exception=True)
    order = selectors.work_order_get(order_id=order_id)
    service(order=order, actor=request_actor(request), **data.validated_data)
    return Response(order_detail(order.pk))


class WorkOrderDispatchApi(APIView):
    """Dispatch or re-dispatch: to the chosen ``crew`` (manual), or, without one, back to
    automatic dispatch (withdrawn from the current crew, which is not offered it again).
    ``override`` picks a crew the filters exclude: a ``reason`` is then required (400)."""

    permission_classes = [IsAuthenticated, CanWriteOrders]

    class InputSerializer(_VersionedInput):
        class Meta:
            ref_name = "WorkOrderDispatchInput"

        crew = serializers.PrimaryKeyRelatedField(
            queryset=grid_reference.crews(), required=False, allow_null=True
        )
        override = serializers.BooleanField(required=False, default=False)

    @extend_schema(
        operation_id="work_orders_dispatch",
        request=InputSerializer,
        responses={200: WorkOrderDetailSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request, order_id: int) -> Response:
        return _write(request, order_id, self.InputSerializer, services.work_order_dispatch_by_hand)


class WorkOrderPlaceApi(APIView):
    """Put an order on the map: a point (``lat``, ``lng``), a ``service_point`` or a
    ``device`` (exactly one); grid, district and area class follow the nearest premise."""

    permission_classes = [IsAuthenticated, CanWriteOrders]

    class InputSerializer(_VersionedInput):
        class Meta:
            ref_name = "WorkOrderPlaceInput"

        lat = serializers.FloatField(required=False, min_value=-90, max_value=90)
        lng = serializers.FloatField(required=False, min_value=-180, max_value=180)
        service_point = serializers.PrimaryKeyRelatedField(
            queryset=grid_reference.service_points(), required=False
        )
        device = serializers.PrimaryKeyRelatedField(
            queryset=grid_reference.devices(), required=False
        )
        address = serializers.CharField(
            required=False, default="", allow_blank=True, max_length=300
        )

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            if ("lat" in attrs) != ("lng" in attrs):
                raise serializers.ValidationError({"lng": [_("纬度和经度须同时提供。")]})
            given = ("lat" in attrs) + ("service_point" in attrs) + ("device" in attrs)
            if given != 1:
                raise serializers.ValidationError(
                    {"lat": [_("请在地图上点选位置，或选择一个用户或设备（三选一）。")]}
                )
            return attrs

    @extend_schema(
        operation_id="work_orders_place",
        request=InputSerializer,
        responses={200: WorkOrderDetailSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request, order_id: int) -> Response:
        return _write(request, order_id, self.InputSerializer, services.work_order_place)


class WorkOrderPublishApi(APIView):
    """Publish a waiting, non-urgent order to the grab pool."""

    permission_classes = [IsAuthenticated, CanWriteOrders]

    class InputSerializer(_VersionedInput):
        class Meta:
            ref_name = "WorkOrderPublishInput"

        ttl_seconds = serializers.IntegerField(required=False, min_value=30, max_value=3600)

    @extend_schema(
        operation_id="work_orders_publish",
        request=InputSerializer,
        responses={200: WorkOrderDetailSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request, order_id: int) -> Response:
        return _write(request, order_id, self.InputSerializer, services.work_order_publish)


class WorkOrderCancelApi(APIView):
    """Cancel an order (a reason is required)."""

    permission_classes = [IsAuthenticated, CanWriteOrders]

    class InputSerializer(_VersionedInput):
        class Meta:
            ref_name = "WorkOrderCancelInput"

        reason = serializers.CharField(max_length=1000)

    @extend_schema(
        operation_id="work_orders_cancel",
        request=InputSerializer,
        responses={200: WorkOrderDetailSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request, order_id: int) -> Response:
        return _write(request, order_id, self.InputSerializer, services.work_order_cancel)


class WorkOrderMergeApi(APIView):
    """Merge this order into another (``into``); its reports go along."""

    permission_classes = [IsAuthenticated, CanWriteOrders]

    class InputSerializer(_VersionedInput):
        class Meta:
            ref_name = "WorkOrderMergeInput"

        into = serializers.PrimaryKeyRelatedField(queryset=WorkOrder.objects.all())

    @extend_schema(
        operation_id="work_orders_merge",
        request=InputSerializer,
        responses={200: WorkOrderDetailSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request, order_id: int) -> Response:
        return _write(request, order_id, self.InputSerializer, services.work_order_merge)


class WorkOrderCloseApi(APIView):
    """Close a completed order without (or after) a return visit."""

    permission_classes = [IsAuthenticated, CanWriteOrders]

    @extend_schema(
        operation_id="work_orders_close",
        request=_VersionedInput,
        responses={200: WorkOrderDetailSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request, order_id: int) -> Response:
        return _write(request, order_id, _VersionedInput, services.work_order_close)


class WorkOrderReturnVisitApi(APIView):
    """Record the customer's answer after completion; "still off" reopens the work."""

    permission_classes = [IsAuthenticated, CanReadOrders]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "WorkOrderReturnVisitInput"

        restored_confirmed = serializers.BooleanField()
        satisfaction = serializers.IntegerField(
            required=False, allow_null=True, min_value=1, max_value=5
        )
        note = serializers.CharField(required=False, default="", allow_blank=True, max_length=2000)
        service_point = serializers.PrimaryKeyRelatedField(
            queryset=grid_reference.service_points(related=("grid", "transformer")),
            required=False,
            allow_null=True,
        )

    @extend_schema(
        operation_id="work_orders_return_visit",
        request=InputSerializer,
        responses={200: WorkOrderDetailSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request, order_id: int) -> Response:
        return _write(request, order_id, self.InputSerializer, services.work_order_return_visit)


class WorkOrderOutageEtrApi(APIView):
    """Set (or clear) the ETR of the order's outage (through the outages services)."""

    permission_classes = [IsAuthenticated, CanWriteOrders]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "WorkOrderOutageEtrInput"

        etr = serializers.DateTimeField(allow_null=True)
        reason = serializers.CharField(
            required=False, default="", allow_blank=True, max_length=1000
        )

    @extend_schema(
        operation_id="work_orders_outage_etr",
        request=InputSerializer,
        responses={200: WorkOrderDetailSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request, order_id: int) -> Response:
        return _write(request, order_id, self.InputSerializer, services.work_order_set_outage_etr)


class WorkOrderOutageConfirmApi(APIView):
    """Confirm the order's predicted outage (through the outages services)."""

    permission_classes = [IsAuthenticated, CanWriteOrders]

    @extend_schema(
        operation_id="work_orders_outage_confirm",
        request=_VersionedInput,
        responses={200: WorkOrderDetailSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request, order_id: int) -> Response:
        data = _VersionedInput(data=request.data)
        data.is_valid(raise_exception=True)
        order = selectors.work_order_get(order_id=order_id)
        services.work_order_confirm_outage(
            order=order, actor=request_actor(request), reason=data.validated_data["reason"]
        )
        return Response(order_detail(order.pk))
