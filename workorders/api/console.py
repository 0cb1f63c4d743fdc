"""REST endpoints of the work-orders app, mounted under /api/v1/.

Two audiences:

* **The crews' app** (token of a crew member; contract in ``shared/API.md``, paths and field
  names fixed): ``crew/orders``, ``crew/orders/{id}/actions`` (with ``Idempotency-Key``),
  ``crew/locations``, ``crew/pool``, ``crew/pool/{id}/claim`` (409 when the race is lost).
  A crew member acts only on its own crew's orders (403 otherwise).
* **The dispatcher console** (dispatchers and supervisors write; hotline agents read and
  record return visits): ``work-orders`` (list with filters and SLA state, create),
  ``work-orders/{id}`` (detail: timeline, decisions explained), ``…/suggestions``,
  ``…/dispatch``, ``…/publish``, ``…/cancel``, ``…/merge``, ``…/close``,
  ``…/return-visit``, ``…/outage/etr``, ``…/outage/confirm``, ``dispatch/crews`` (the crew
  board) and ``dispatch/crews/{id}/duty``.

One class per operation: validate → service / selector → serialize. Errors use the
contract's shape (``dispatch_center.core.api``): 400 with per-field messages, 403, 404, 409.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from dispatch_center.core import roles
from dispatch_center.core.api import DefaultPagination
from dispatch_center.core.exceptions import (
    ConcurrentUpdate,
    DomainError,
    NotFound,
    PermissionDenied,
)
from dispatch_center.core.permissions import HasRole
from grids.models import Crew, Device, Grid, ServicePoint
from outages.models import OutageCause
from workorders import selectors, services
from workorders.models import WorkOrder

READ_ROLES = (roles.DISPATCHER, roles.SUPERVISOR, roles.HOTLINE_AGENT)
WRITE_ROLES = (roles.DISPATCHER, roles.SUPERVISOR)
CanReadOrders = HasRole(*READ_ROLES)
CanWriteOrders = HasRole(*WRITE_ROLES)
IsCrewRole = HasRole(roles.CREW_MEMBER)

Status = WorkOrder.Status


def _actor(request: Request) -> User:
    return request.user  # type: ignore[return-value]


def _my_crew(request: Request) -> Crew:
    crew = selectors.crew_for_user(request.user)
    if crew is None:
        raise PermissionDenied(_("您不是抢修班组成员。"), code="not_a_crew_member")
    return crew


# --- shared output -----------------------------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    class Meta:
        ref_name = "WorkOrderError"

    error = serializers.DictField()


class _RefSerializer(serializers.Serializer):
    class Meta:
        ref_name = "WorkOrderRef"

    id = serializers.IntegerField()
    name = serializers.CharField()


class _CrewRefSerializer(serializers.Serializer):
    class Meta:
        ref_name = "WorkOrderCrewRef"

    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


class _OutageRefSerializer(serializers.Serializer):
    class Meta:
        ref_name = "WorkOrderOutageRef"

    id = serializers.IntegerField()
    status = serializers.CharField()
    status_display = serializers.CharField(source="get_status_display")
    type = serializers.CharField(source="type.name")
    customers_affected = serializers.IntegerField()
    customers_restored = serializers.IntegerField()
    etr = serializers.DateTimeField(allow_null=True)


class WorkOrderListItemSerializer(serializers.Serializer):
    """A work order in a list, with its SLA clocks."""

    class Meta:
        ref_name = "WorkOrderListItem"

    id = serializers.IntegerField()
    kind = serializers.CharField()
    kind_display = serializers.CharField(source="get_kind_display")
    status = serializers.CharField()
    status_display = serializers.CharField(source="get_status_display")
    priority = serializers.IntegerField()
    urgent = serializers.BooleanField(source="is_urgent")
    title = serializers.CharField()
    address = serializers.CharField()
    lat = serializers.FloatField(allow_null=True)
    lng = serializers.FloatField(allow_null=True)
    area_class = serializers.CharField()
    grid = _RefSerializer(allow_null=True)
    district = _RefSerializer(allow_null=True)
    crew = _CrewRefSerializer(allow_null=True)
    outage = _OutageRefSerializer(allow_null=True)
    skill_needed = serializers.CharField(source="skill_needed.code", allow_null=True, default=None)
    sla_state = serializers.CharField()
    sla_started_at = serializers.DateTimeField(allow_null=True)
    arrive_warn_at = serializers.DateTimeField(allow_null=True)
    arrive_due_at = serializers.DateTimeField(allow_null=True)
    restore_warn_at = serializers.DateTimeField(allow_null=True)
    restore_due_at = serializers.DateTimeField(allow_null=True)
    waiting_since = serializers.DateTimeField(allow_null=True)
    dispatched_at = serializers.DateTimeField(allow_null=True)
    offer_expires_at = serializers.DateTimeField(allow_null=True)
    published_at = serializers.DateTimeField(allow_null=True)
    pool_expires_at = serializers.DateTimeField(allow_null=True)
    accepted_at = serializers.DateTimeField(allow_null=True)
    departed_at = serializers.DateTimeField(allow_null=True)
    arrived_at = serializers.DateTimeField(allow_null=True)
    restored_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    version = serializers.IntegerField()


class _TimelineSerializer(serializers.Serializer):
    class Meta:
        ref_name = "WorkOrderTimelineEntry"

    id = serializers.IntegerField()
    kind = serializers.CharField()
    kind_display = serializers.CharField(source="get_kind_display")
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    crew = serializers.CharField(source="crew.name", allow_null=True, default=None)
    actor = serializers.CharField(source="actor_label")
    reason = serializers.CharField()
    at = serializers.DateTimeField()
    data = serializers.JSONField()  # type: ignore[assignment]


class _RefusalSerializer(serializers.Serializer):
    class Meta:
        ref_name = "WorkOrderRefusal"

    crew = _CrewRefSerializer()
    reason = serializers.CharField()
    at = serializers.DateTimeField()


class _PhotoSerializer(serializers.Serializer):
    class Meta:
        ref_name = "WorkOrderPhoto"

    id = serializers.IntegerField()
    url = serializers.CharField(source="image.url")
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    uploaded_at = serializers.DateTimeField()


class _ReturnVisitSerializer(serializers.Serializer):
    class Meta:
        ref_name = "WorkOrderReturnVisit"

    id = serializers.IntegerField()
    restored_confirmed = serializers.BooleanField()
    satisfaction = serializers.IntegerField(allow_null=True)
    note = serializers.CharField()
    follow_up_id = serializers.IntegerField(allow_null=True)
    at = serializers.DateTimeField()


class _ReportSerializer(serializers.Serializer):
    class Meta:
        ref_name = "WorkOrderReport"

    id = serializers.IntegerField()
    reference = serializers.CharField()
    channel = serializers.CharField()
    symptom = serializers.CharField()
    received_at = serializers.DateTimeField()


class WorkOrderDetailSerializer(WorkOrderListItemSerializer):
    """A work order with its timeline, dispatch decisions (explained), refusals, photos,
    return visits, reports and the transitions allowed from here."""

    class Meta:
        ref_name = "WorkOrderDetail"

    description = serializers.CharField()
    findings = serializers.CharField()
    cause = serializers.CharField(source="cause.code", allow_null=True, default=None)
    service_point_id = serializers.IntegerField(allow_null=True)
    source_report_id = serializers.IntegerField(allow_null=True)
    merged_into_id = serializers.IntegerField(allow_null=True)
    reopened_from_id = serializers.IntegerField(allow_null=True)
    merged_order_ids = serializers.SerializerMethodField()
    claim_bonus_points = serializers.IntegerField()
    pool_audience_size = serializers.SerializerMethodField()
    allowed_transitions = serializers.SerializerMethodField()
    timeline = _TimelineSerializer(source="events", many=True)
    decisions = serializers.SerializerMethodField()
    refusals = _RefusalSerializer(many=True)
    photos = _PhotoSerializer(many=True)
    return_visits = _ReturnVisitSerializer(many=True)
    reports = _ReportSerializer(many=True)

    def get_merged_order_ids(self, order: WorkOrder) -> list[int]:
        return [o.pk for o in order.merged_orders.all()]

    def get_pool_audience_size(self, order: WorkOrder) -> int:
        return len(order.pool_audience or [])

    def get_allowed_transitions(self, order: WorkOrder) -> list[str]:
        return sorted(WorkOrder.ALLOWED_TRANSITIONS.get(order.status, ()))

    def get_decisions(self, order: WorkOrder) -> list[dict[str, Any]]:
        """Newest first; each with its candidates' score components labelled."""
        return [selectors.decision_explain(d) for d in order.decisions.all()]


def _detail(order_id: int) -> dict[str, Any]:
    return WorkOrderDetailSerializer(selectors.work_order_get_detail(order_id=order_id)).data


_WRITE_ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid input (per-field messages)."),
    403: OpenApiResponse(ErrorSerializer, description="Not allowed for this user."),
    404: OpenApiResponse(ErrorSerializer, description="No such work order."),
    409: OpenApiResponse(ErrorSerializer, description="Refused or concurrent change."),
}


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
            queryset=ServicePoint.objects.select_related("grid"), required=False
        )
        grid = serializers.PrimaryKeyRelatedField(queryset=Grid.objects.all(), required=False)

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
        responses={201: WorkOrderDetailSerializer, **_WRITE_ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = self.CreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = services.work_order_create(actor=_actor(request), **data.validated_data)
        return Response(_detail(order.pk), status=status.HTTP_201_CREATED)


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
        return Response(_detail(order_id))


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


class WorkOrderSuggestionsApi(APIView):
    """Crews ranked for this order now (what auto-dispatch would pick), with the score
    components, and the nearest crews filtered out with their reasons."""

    permission_classes = [IsAuthenticated, CanWriteOrders]

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "WorkOrderSuggestions"

        candidates = _SuggestionSerializer(many=True)
        filtered_out = _FilteredCrewSerializer(many=True)
        outcome = serializers.CharField()

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
        return Response(selectors.work_order_suggestions(order=order, limit=limit))


# --- console: writes ------------------------------------------------------------------------------


class _VersionedInput(serializers.Serializer):
    """The version the client saw: a stale one answers 409 instead of overwriting."""

    class Meta:
        ref_name = "WorkOrderVersionedInput"

    version = serializers.IntegerField(required=False, min_value=1)
    reason = serializers.CharField(required=False, default="", allow_blank=True, max_length=1000)


def _order_for_write(order_id: int, values: dict[str, Any]) -> WorkOrder:
    order = selectors.work_order_get(order_id=order_id)
    if "version" in values and values["version"] != order.version:
        raise ConcurrentUpdate(order.pk)
    return order


class WorkOrderDispatchApi(APIView):
    """Dispatch or re-dispatch: to the chosen ``crew`` (manual), or, without one, back to
    automatic dispatch (withdrawn from the current crew, which is not offered it again)."""

    permission_classes = [IsAuthenticated, CanWriteOrders]

    class InputSerializer(_VersionedInput):
        class Meta:
            ref_name = "WorkOrderDispatchInput"

        crew = serializers.PrimaryKeyRelatedField(
            queryset=Crew.objects.all(), required=False, allow_null=True
        )

    @extend_schema(
        operation_id="work_orders_dispatch",
        request=InputSerializer,
        responses={200: WorkOrderDetailSerializer, **_WRITE_ERRORS},
    )
    def post(self, request: Request, order_id: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        order = _order_for_write(order_id, values)
        if values.get("crew") is not None:
            services.work_order_assign(
                order=order, crew=values["crew"], actor=_actor(request), reason=values["reason"]
            )
        else:
            services.work_order_redispatch(
                order=order, actor=_actor(request), reason=values["reason"]
            )
        return Response(_detail(order.pk))


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
        responses={200: WorkOrderDetailSerializer, **_WRITE_ERRORS},
    )
    def post(self, request: Request, order_id: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        order = _order_for_write(order_id, values)
        services.work_order_publish(
            order=order,
            actor=_actor(request),
            ttl_seconds=values.get("ttl_seconds"),
            reason=values["reason"],
        )
        return Response(_detail(order.pk))


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
        responses={200: WorkOrderDetailSerializer, **_WRITE_ERRORS},
    )
    def post(self, request: Request, order_id: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        order = _order_for_write(order_id, values)
        services.work_order_cancel(order=order, actor=_actor(request), reason=values["reason"])
        return Response(_detail(order.pk))


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
        responses={200: WorkOrderDetailSerializer, **_WRITE_ERRORS},
    )
    def post(self, request: Request, order_id: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        order = _order_for_write(order_id, values)
        services.work_order_merge(
            order=order, into=values["into"], actor=_actor(request), reason=values["reason"]
        )
        return Response(_detail(order.pk))


class WorkOrderCloseApi(APIView):
    """Close a completed order without (or after) a return visit."""

    permission_classes = [IsAuthenticated, CanWriteOrders]

    @extend_schema(
        operation_id="work_orders_close",
        request=_VersionedInput,
        responses={200: WorkOrderDetailSerializer, **_WRITE_ERRORS},
    )
    def post(self, request: Request, order_id: int) -> Response:
        data = _VersionedInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        order = _order_for_write(order_id, values)
        services.work_order_close(order=order, actor=_actor(request), reason=values["reason"])
        return Response(_detail(order.pk))


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
            queryset=ServicePoint.objects.select_related("grid", "transformer"),
            required=False,
            allow_null=True,
        )

    @extend_schema(
        operation_id="work_orders_return_visit",
        request=InputSerializer,
        responses={200: WorkOrderDetailSerializer, **_WRITE_ERRORS},
    )
    def post(self, request: Request, order_id: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = selectors.work_order_get(order_id=order_id)
        services.work_order_return_visit(order=order, actor=_actor(request), **data.validated_data)
        return Response(_detail(order.pk))


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
        responses={200: WorkOrderDetailSerializer, **_WRITE_ERRORS},
    )
    def post(self, request: Request, order_id: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = selectors.work_order_get(order_id=order_id)
        services.work_order_set_outage_etr(
            order=order,
            etr=data.validated_data["etr"],
            actor=_actor(request),
            reason=data.validated_data["reason"],
        )
        return Response(_detail(order.pk))


class WorkOrderOutageConfirmApi(APIView):
    """Confirm the order's predicted outage (through the outages services)."""

    permission_classes = [IsAuthenticated, CanWriteOrders]

    @extend_schema(
        operation_id="work_orders_outage_confirm",
        request=_VersionedInput,
        responses={200: WorkOrderDetailSerializer, **_WRITE_ERRORS},
    )
    def post(self, request: Request, order_id: int) -> Response:
        data = _VersionedInput(data=request.data)
        data.is_valid(raise_exception=True)
        order = selectors.work_order_get(order_id=order_id)
        services.work_order_confirm_outage(
            order=order, actor=_actor(request), reason=data.validated_data["reason"]
        )
        return Response(_detail(order.pk))


# --- console: crews ----------------------------------------------------------------------------


class CrewBoardSerializer(serializers.Serializer):
    """A crew on the console map."""

    class Meta:
        ref_name = "WorkOrderCrewBoardItem"

    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    status = serializers.CharField()
    status_display = serializers.CharField(source="get_status_display")
    on_duty = serializers.BooleanField()
    capacity = serializers.IntegerField()
    open_orders = serializers.IntegerField()
    station = serializers.CharField(source="station.name")
    grid = _RefSerializer(source="station.grid")
    lat = serializers.FloatField(source="last_lat", allow_null=True)
    lng = serializers.FloatField(source="last_lng", allow_null=True)
    located_at = serializers.DateTimeField(source="last_located_at", allow_null=True)
    pool = serializers.SerializerMethodField()

    def get_pool(self, crew: Crew) -> dict[str, Any] | None:
        stats = getattr(crew, "pool_stats", None)
        if stats is None:
            return None
        return {
            "claims": stats.claims,
            "skips": stats.skips,
            "lost_races": stats.lost_races,
            "bonus_points": stats.bonus_points,
            "skip_ratio": round(stats.skip_ratio, 3),
        }


class CrewBoardApi(APIView):
    """Every crew with its position, status, load and pool statistics."""

    permission_classes = [IsAuthenticated, CanReadOrders]

    @extend_schema(operation_id="dispatch_crews", responses={200: CrewBoardSerializer(many=True)})
    def get(self, request: Request) -> Response:
        return Response(CrewBoardSerializer(selectors.crew_board(), many=True).data)


class CrewDutyApi(APIView):
    """Put a crew on or off duty (off: its unaccepted orders are re-dispatched)."""

    permission_classes = [IsAuthenticated, CanWriteOrders]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "WorkOrderCrewDutyInput"

        on_duty = serializers.BooleanField()

    @extend_schema(
        operation_id="dispatch_crew_duty",
        request=InputSerializer,
        responses={200: CrewBoardSerializer, **_WRITE_ERRORS},
    )
    def post(self, request: Request, crew_id: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        crew = selectors.crew_board().filter(pk=crew_id).first()
        if crew is None:
            raise NotFound(_("班组不存在。"))
        services.crew_set_on_duty(
            crew=crew, on_duty=data.validated_data["on_duty"], actor=_actor(request)
        )
        return Response(CrewBoardSerializer(selectors.crew_board().get(pk=crew_id)).data)


# --- the crews' app ------------------------------------------------------------------------------

CREW_ACTIONS = ("accept", "reject", "depart", "arrive", "findings", "restore", "complete")
# Which actions make sense from each status (shown to the app as buttons).
ACTIONS_BY_STATUS: dict[str, list[str]] = {
    Status.DISPATCHED: ["accept", "reject"],
    Status.CLAIMED: ["accept", "reject"],
    Status.ACCEPTED: ["depart", "arrive"],
    Status.EN_ROUTE: ["arrive"],
    Status.ON_SITE: ["findings", "restore", "complete"],
}


class CrewOrderSerializer(WorkOrderListItemSerializer):
    """An order as the crew's app shows it, with the actions it may take now."""

    class Meta:
        ref_name = "CrewOrder"

    description = serializers.CharField()
    findings = serializers.CharField()
    actions = serializers.SerializerMethodField()

    def get_actions(self, order: WorkOrder) -> list[str]:
        return ACTIONS_BY_STATUS.get(order.status, [])


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
        crew = _my_crew(request)
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
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CrewOrderActionInput"

        action = serializers.ChoiceField(choices=[(a, a) for a in CREW_ACTIONS])
        at = serializers.DateTimeField(required=False)
        lat = serializers.FloatField(required=False, min_value=-90, max_value=90)
        lng = serializers.FloatField(required=False, min_value=-180, max_value=180)
        note = serializers.CharField(required=False, default="", allow_blank=True, max_length=2000)
        cause = serializers.SlugRelatedField(
            slug_field="code",
            queryset=OutageCause.objects.filter(is_active=True),
            required=False,
            allow_null=True,
        )
        device = serializers.SlugRelatedField(
            slug_field="code", queryset=Device.objects.all(), required=False, allow_null=True
        )
        photos = serializers.ListField(child=serializers.FileField(), required=False, max_length=10)

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            if ("lat" in attrs) != ("lng" in attrs):
                raise serializers.ValidationError({"lng": [_("纬度和经度须同时提供。")]})
            action = attrs["action"]
            if attrs.get("photos") and action != "findings":
                raise serializers.ValidationError({"photos": [_("只有现场勘查可以上传照片。")]})
            if attrs.get("cause") is not None and action != "findings":
                raise serializers.ValidationError({"cause": [_("只有现场勘查可以填写原因。")]})
            if attrs.get("device") is not None and action != "restore":
                raise serializers.ValidationError({"device": [_("只有恢复送电可以指定设备。")]})
            if action == "findings" and not (
                attrs.get("cause") or attrs.get("note") or attrs.get("photos")
            ):
                raise serializers.ValidationError({"cause": [_("请填写原因、说明或上传照片。")]})
            return attrs

    @extend_schema(
        operation_id="crew_order_action",
        request={
            "application/json": InputSerializer,
            "multipart/form-data": InputSerializer,
        },
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
        responses={200: CrewOrderSerializer, **_WRITE_ERRORS},
    )
    def post(self, request: Request, order_id: int) -> Response:
        crew = _my_crew(request)
        order = selectors.work_order_get(order_id=order_id)
        if order.crew_id != crew.pk:
            raise PermissionDenied(_("该工单不属于您的班组。"), code="not_your_order")
        key = request.headers.get("Idempotency-Key", "").strip() or None
        if key is not None and len(key) > 100:
            raise DomainError(
                _("幂等键过长。"),
                code="invalid",
                fields={"Idempotency-Key": [_("最多 100 个字符。")]},
            )
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        photos = values.pop("photos", [])
        fingerprint = {
            **{k: (getattr(v, "code", v)) for k, v in values.items()},
            "photos": [(p.name, p.size) for p in photos],
        }
        actor = _actor(request)

        def perform() -> tuple[int, dict[str, Any]]:
            _perform_action(order=order, crew=crew, actor=actor, values=values, photos=photos)
            fresh = selectors.crew_orders(crew=crew, open_only=False).filter(pk=order.pk).first()
            body = CrewOrderSerializer(fresh or selectors.work_order_get(order_id=order.pk)).data
            return status.HTTP_200_OK, dict(body)

        code, body, replayed = services.crew_action_idempotent(
            order=order, crew=crew, key=key, payload=fingerprint, perform=perform
        )
        response = Response(body, status=code)
        if replayed:
            response["Idempotent-Replayed"] = "true"
        return response


def _perform_action(
    *, order: WorkOrder, crew: Crew, actor: User, values: dict[str, Any], photos: list[Any]
) -> None:
    """Call the service of one crew action (inside the idempotent transaction)."""
    action = values["action"]
    at = values.get("at")
    note = values.get("note", "")
    if "lat" in values:
        services.crew_locations_record(
            crew=crew, points=[(at or timezone.now(), values["lat"], values["lng"])]
        )
    if action == "accept":
        services.work_order_accept(order=order, crew=crew, actor=actor, at=at)
    elif action == "reject":
        services.work_order_reject(order=order, crew=crew, actor=actor, reason=note)
    elif action == "depart":
        services.work_order_depart(order=order, crew=crew, actor=actor, at=at)
    elif action == "arrive":
        services.work_order_arrive(order=order, crew=crew, actor=actor, at=at)
    elif action == "findings":
        stored = services.work_order_photos_store(
            order=order, crew=crew, uploads=photos, at=at or timezone.now()
        )
        services.work_order_record_findings(
            order=order,
            crew=crew,
            actor=actor,
            cause=values.get("cause"),
            note=note,
            photo_ids=[p.pk for p in stored],
            at=at,
        )
    elif action == "restore":
        services.work_order_restore(
            order=order, crew=crew, actor=actor, device=values.get("device"), at=at, note=note
        )
    elif action == "complete":
        services.work_order_complete(order=order, crew=crew, actor=actor, at=at, note=note)


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
        crew = _my_crew(request)
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
        crew = _my_crew(request)
        entries = selectors.pool_orders_for_crew(crew=crew)
        stats = selectors.crew_pool_stats(crew=crew)
        return Response(self.OutputSerializer({"results": entries, "stats": stats}).data)


class CrewPoolClaimApi(APIView):
    """Claim a published order; 409 ``already_taken`` when another crew was first."""

    permission_classes = [IsAuthenticated, IsCrewRole]

    @extend_schema(
        operation_id="crew_pool_claim",
        request=None,
        responses={200: CrewOrderSerializer, **_WRITE_ERRORS},
    )
    def post(self, request: Request, order_id: int) -> Response:
        crew = _my_crew(request)
        order = services.work_order_claim(order_id=order_id, crew=crew, actor=_actor(request))
        fresh = selectors.crew_orders(crew=crew, open_only=False).filter(pk=order.pk).first()
        return Response(CrewOrderSerializer(fresh).data)
