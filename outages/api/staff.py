"""REST endpoints of the outage information pool (staff), mounted under /api/v1/.

One class per operation: validate → service / selector → serialize. Dispatchers and
supervisors read and write; hotline agents read. Errors use the contract's shape (see
``dispatch_center.core.api``): 400 with per-field messages, 409 for a refused or concurrent
transition.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from dispatch_center.core import roles
from dispatch_center.core.api import DefaultPagination
from dispatch_center.core.exceptions import ConcurrentUpdate
from dispatch_center.core.permissions import HasRole
from dispatch_center.core.serializers import CodeNameSerializer as _CodeNameSerializer
from dispatch_center.core.serializers import ErrorSerializer
from dispatch_center.core.serializers import RefSerializer as _RefSerializer
from outages import selectors, services
from outages.models import Outage, OutageCategory

from . import fields

READ_ROLES = (roles.DISPATCHER, roles.SUPERVISOR, roles.HOTLINE_AGENT)
WRITE_ROLES = (roles.DISPATCHER, roles.SUPERVISOR)


CanReadOutages = HasRole(*READ_ROLES)
CanWriteOutages = HasRole(*WRITE_ROLES)


def _actor(request: Request) -> User:
    return request.user  # type: ignore[return-value]


class OutageWriteApi(APIView):
    """The dispatcher's hands on the outage pool: dispatchers and supervisors only. A view
    validates its body with ``validated(request)`` against its own ``InputSerializer``."""

    permission_classes = [IsAuthenticated, CanWriteOutages]
    InputSerializer: type[serializers.Serializer]

    def validated(self, request: Request, *, partial: bool = False) -> dict[str, Any]:
        """The request body validated by ``InputSerializer`` (400 with per-field messages)."""
        data = self.InputSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        return dict(data.validated_data)


# --- shared output ------------------------------------------------------------------------


class _DeviceSerializer(serializers.Serializer):
    class Meta:
        ref_name = "OutageDevice"

    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField()


class OutageListItemSerializer(serializers.Serializer):
    """An outage in a list."""

    class Meta:
        ref_name = "OutageListItem"

    id = serializers.IntegerField()
    status = serializers.CharField()
    status_display = serializers.CharField(source="get_status_display")
    source = serializers.CharField()  # type: ignore[assignment]
    category = _CodeNameSerializer(source="type.category")
    type = _CodeNameSerializer()
    device = _DeviceSerializer()
    cause = _CodeNameSerializer(allow_null=True)
    parent_id = serializers.IntegerField(allow_null=True)
    started_at = serializers.DateTimeField(allow_null=True)
    etr = serializers.DateTimeField(allow_null=True)
    restored_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    customers_affected = serializers.IntegerField()
    customers_restored = serializers.IntegerField()
    customers_out = serializers.IntegerField()
    description = serializers.CharField()
    district = _RefSerializer(allow_null=True)
    grid = _RefSerializer(allow_null=True)
    planned_start_at = serializers.DateTimeField(allow_null=True)
    planned_end_at = serializers.DateTimeField(allow_null=True)
    notice_published_at = serializers.DateTimeField(allow_null=True)
    version = serializers.IntegerField()
    updated_at = serializers.DateTimeField()


class _TimelineSerializer(serializers.Serializer):
    class Meta:
        ref_name = "OutageTimelineEntry"

    id = serializers.IntegerField()
    kind = serializers.CharField()
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    actor = serializers.CharField(source="actor_label")
    reason = serializers.CharField()
    at = serializers.DateTimeField()
    data = serializers.JSONField()  # type: ignore[assignment]


class _EtrChangeSerializer(serializers.Serializer):
    class Meta:
        ref_name = "OutageEtrChange"

    old_etr = serializers.DateTimeField(allow_null=True)
    new_etr = serializers.DateTimeField(allow_null=True)
    actor = serializers.CharField(source="actor_label")
    reason = serializers.CharField()
    at = serializers.DateTimeField()


class _ChildSerializer(serializers.Serializer):
    class Meta:
        ref_name = "OutageChild"

    id = serializers.IntegerField()
    status = serializers.CharField()


class OutageDetailSerializer(OutageListItemSerializer):
    """An outage with its timeline, ETR history, devices, nested outages and map area."""

    class Meta:
        ref_name = "OutageDetail"

    extra_devices = _DeviceSerializer(many=True)
    service_point_id = serializers.IntegerField(allow_null=True)
    root_id = serializers.IntegerField(allow_null=True)
    depth = serializers.IntegerField()
    children = _ChildSerializer(many=True)
    notice_override_reason = serializers.CharField()
    area = serializers.JSONField(allow_null=True)
    timeline = _TimelineSerializer(source="events", many=True)
    etr_history = _EtrChangeSerializer(source="etr_changes", many=True)


def _detail(outage_id: int) -> dict[str, Any]:
    return OutageDetailSerializer(selectors.outage_get_detail(outage_id=outage_id)).data


_WRITE_ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid input (per-field messages)."),
    403: OpenApiResponse(ErrorSerializer, description="Not a dispatcher or supervisor."),
    404: OpenApiResponse(ErrorSerializer, description="No such outage."),
    409: OpenApiResponse(ErrorSerializer, description="Refused or concurrent change."),
}


# --- reads ----------------------------------------------------------------------------------


class OutageListApi(APIView):
    """List outages, filtered and paginated."""

    permission_classes = [IsAuthenticated, CanReadOutages]

    class FilterSerializer(serializers.Serializer):
        class Meta:
            ref_name = "OutageListFilter"

        status = serializers.MultipleChoiceField(choices=Outage.Status.choices, required=False)
        category = serializers.ChoiceField(choices=OutageCategory.Code.choices, required=False)
        type = serializers.CharField(required=False, max_length=40)
        district = serializers.IntegerField(required=False, min_value=1)
        grid = serializers.IntegerField(required=False, min_value=1)
        source = serializers.ChoiceField(  # type: ignore[assignment]
            choices=Outage.Source.choices, required=False
        )
        active = serializers.BooleanField(required=False, allow_null=True, default=None)
        updated_since = serializers.DateTimeField(required=False)
        page = serializers.IntegerField(required=False, min_value=1)
        page_size = serializers.IntegerField(required=False, min_value=1, max_value=500)

    class PageSerializer(serializers.Serializer):
        class Meta:
            ref_name = "OutagePage"

        count = serializers.IntegerField()
        next = serializers.URLField(allow_null=True)
        previous = serializers.URLField(allow_null=True)
        results = OutageListItemSerializer(many=True)

    @extend_schema(
        operation_id="outages_list",
        parameters=[FilterSerializer],
        responses={200: PageSerializer, 400: ErrorSerializer, 403: ErrorSerializer},
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        qs = selectors.outage_list(filters=filters.validated_data)
        paginator = DefaultPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(OutageListItemSerializer(page, many=True).data)


class OutageDetailApi(APIView):
    """One outage with its timeline and affected-customer counts."""

    permission_classes = [IsAuthenticated, CanReadOutages]

    @extend_schema(
        operation_id="outages_retrieve",
        responses={200: OutageDetailSerializer, 403: ErrorSerializer, 404: ErrorSerializer},
    )
    def get(self, request: Request, outage_id: int) -> Response:
        return Response(_detail(outage_id))


class PlannedNoticeListApi(APIView):
    """Planned outages starting within ``days`` days or under way (the notices)."""

    permission_classes = [IsAuthenticated, CanReadOutages]

    class FilterSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PlannedNoticeFilter"

        days = serializers.IntegerField(required=False, default=7, min_value=1, max_value=60)
        district = serializers.IntegerField(required=False, min_value=1)
        service_point = serializers.IntegerField(required=False, min_value=1)
        published_only = serializers.BooleanField(required=False, default=False)

    @extend_schema(
        operation_id="outages_notices",
        parameters=[FilterSerializer],
        responses={200: OutageListItemSerializer(many=True), 400: ErrorSerializer},
    )
    def get(self, request: Request) -> Response:
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        if data.get("service_point"):
            qs = selectors.planned_outages_for_service_point(
                service_point=data["service_point"],
                days=data["days"],
                published_only=data["published_only"],
            )
        else:
            qs = selectors.planned_outage_notices(
                days=data["days"],
                district_id=data.get("district"),
                published_only=data["published_only"],
            )
        return Response(OutageListItemSerializer(qs, many=True).data)


class OutageDistrictCountsApi(APIView):
    """Active outages and customers out per district (each customer counted once)."""

    permission_classes = [IsAuthenticated, CanReadOutages]

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "OutageDistrictCount"

        district_id = serializers.IntegerField(allow_null=True)
        district_code = serializers.CharField()
        district_name = serializers.CharField()
        outages = serializers.IntegerField()
        customers_out = serializers.IntegerField()

    @extend_schema(operation_id="outages_district_counts", responses=OutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(
            self.OutputSerializer(selectors.outage_counts_by_district(), many=True).data
        )


# --- writes ---------------------------------------------------------------------------------


class PlannedOutageCreateApi(OutageWriteApi):
    """Schedule a planned / temporary outage (notice rules checked)."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PlannedOutageCreateInput"

        type = fields.outage_type_field()
        devices = fields.device_field(many=True, allow_empty=False)
        planned_start_at = serializers.DateTimeField()
        planned_end_at = serializers.DateTimeField()
        description = serializers.CharField(max_length=2000)
        override_reason = fields.reason_field()
        cause = fields.cause_field()

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            if attrs["planned_end_at"] <= attrs["planned_start_at"]:
                raise serializers.ValidationError(
                    {"planned_end_at": [_("计划结束时间必须晚于开始时间。")]}
                )
            return attrs

    @extend_schema(
        operation_id="outages_planned_create",
        request=InputSerializer,
        responses={201: OutageDetailSerializer, **_WRITE_ERRORS},
    )
    def post(self, request: Request) -> Response:
        values = self.validated(request)
        outage = services.planned_outage_create(actor=_actor(request), **values)
        return Response(_detail(outage.pk), status=status.HTTP_201_CREATED)


class OutageUpdateApi(OutageWriteApi):
    """Change an outage's public description or cause."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "OutageUpdateInput"

        description = serializers.CharField(required=False, allow_blank=True, max_length=2000)
        cause = fields.cause_field()
        reason = fields.reason_field()

    @extend_schema(
        operation_id="outages_update",
        request=InputSerializer,
        responses={200: OutageDetailSerializer, **_WRITE_ERRORS},
    )
    def patch(self, request: Request, outage_id: int) -> Response:
        values = self.validated(request, partial=True)
        outage = selectors.outage_get(outage_id=outage_id)
        if "description" in values:
            outage = services.outage_set_description(
                outage=outage, description=values["description"], actor=_actor(request)
            )
        if "cause" in values:
            outage = services.outage_set_cause(
                outage=outage,
                cause=values["cause"],
                actor=_actor(request),
                reason=values.get("reason", ""),
            )
        return Response(_detail(outage.pk))


class OutageTransitionApi(OutageWriteApi):
    """Change an outage's status; 409 when the move is not allowed or somebody was first."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "OutageTransitionInput"

        to = serializers.ChoiceField(choices=Outage.Status.choices)
        reason = fields.reason_field()
        at = serializers.DateTimeField(required=False)
        # The version the client saw: a stale one answers 409 instead of overwriting.
        version = serializers.IntegerField(required=False, min_value=1)

    @extend_schema(
        operation_id="outages_transition",
        request=InputSerializer,
        responses={200: OutageDetailSerializer, **_WRITE_ERRORS},
    )
    def post(self, request: Request, outage_id: int) -> Response:
        values = self.validated(request)
        outage = selectors.outage_get(outage_id=outage_id)
        if "version" in values and values["version"] != outage.version:
            raise ConcurrentUpdate(outage.pk)
        services.outage_transition(
            outage=outage,
            to=values["to"],
            actor=_actor(request),
            reason=values["reason"],
            at=values.get("at"),
        )
        return Response(_detail(outage.pk))


class OutageEtrApi(OutageWriteApi):
    """Set (or clear with ``null``) the estimated restoration time."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "OutageEtrInput"

        etr = serializers.DateTimeField(allow_null=True)
        reason = fields.reason_field()

    @extend_schema(
        operation_id="outages_set_etr",
        request=InputSerializer,
        responses={200: OutageDetailSerializer, **_WRITE_ERRORS},
    )
    def post(self, request: Request, outage_id: int) -> Response:
        values = self.validated(request)
        outage = selectors.outage_get(outage_id=outage_id)
        services.outage_set_etr(
            outage=outage,
            etr=values["etr"],
            reason=values["reason"],
            actor=_actor(request),
        )
        return Response(_detail(outage.pk))


class OutageRestoreDeviceApi(OutageWriteApi):
    """Record that a device re-energised part of the outage (partial restoration)."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "OutageRestoreDeviceInput"

        device = fields.device_field()
        at = serializers.DateTimeField(required=False)
        reason = fields.reason_field()

    @extend_schema(
        operation_id="outages_restore_device",
        request=InputSerializer,
        responses={200: OutageDetailSerializer, **_WRITE_ERRORS},
    )
    def post(self, request: Request, outage_id: int) -> Response:
        values = self.validated(request)
        outage = selectors.outage_get(outage_id=outage_id)
        services.outage_restore_device(
            outage=outage,
            device=values["device"],
            at=values.get("at"),
            reason=values["reason"],
            actor=_actor(request),
        )
        return Response(_detail(outage.pk))


class PlannedOutageNoticeApi(OutageWriteApi):
    """Publish the notice of a scheduled outage (scheduled → notified)."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PlannedOutageNoticeInput"

        override_reason = fields.reason_field()

    @extend_schema(
        operation_id="outages_publish_notice",
        request=InputSerializer,
        responses={200: OutageDetailSerializer, **_WRITE_ERRORS},
    )
    def post(self, request: Request, outage_id: int) -> Response:
        values = self.validated(request)
        outage = selectors.outage_get(outage_id=outage_id)
        services.planned_outage_publish_notice(
            outage=outage,
            override_reason=values["override_reason"],
            actor=_actor(request),
        )
        return Response(_detail(outage.pk))
