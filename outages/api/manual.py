"""The dispatcher's hands on the outage pool (staff, under /api/v1/outages/): declaring a
fault outage by hand, the devices near a point on the map, and what a planned outage would
cut off before it is published. Validate → service / selector → serialize."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from dispatch_center.core.serializers import ErrorSerializer
from grids.models import Device
from outages import selectors, services
from outages.models import TroubleReport

from . import fields
from .staff import (
    _WRITE_ERRORS,
    OutageDetailSerializer,
    OutageWriteApi,
    _actor,
    _detail,
)


class OutageDeclareApi(OutageWriteApi):
    """Declare a confirmed fault outage at a ``device`` or at the lowest device above the
    premises of ``reports`` (their calls are merged into it)."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "OutageDeclareInput"

        type = fields.outage_type_field()
        device = fields.device_field(required=False)
        reports = serializers.PrimaryKeyRelatedField(
            queryset=TroubleReport.objects.select_related("service_point"),
            many=True,
            required=False,
            default=list,
        )
        cause = fields.cause_field()
        description = serializers.CharField(
            required=False, default="", allow_blank=True, max_length=2000
        )
        reason = fields.reason_field()

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            if "device" not in attrs and not attrs.get("reports"):
                raise serializers.ValidationError(
                    {"device": [_("请在地图上选择设备，或选择几条报修。")]}
                )
            if len(attrs.get("reports", [])) > 200:
                raise serializers.ValidationError({"reports": [_("一次最多 200 条报修。")]})
            return attrs

    @extend_schema(
        operation_id="outages_declare",
        request=InputSerializer,
        responses={201: OutageDetailSerializer, **_WRITE_ERRORS},
    )
    def post(self, request: Request) -> Response:
        values = self.validated(request)
        outage = services.outage_declare_by_hand(actor=_actor(request), **values)
        return Response(_detail(outage.pk), status=status.HTTP_201_CREATED)


class _DeviceNearSerializer(serializers.Serializer):
    class Meta:
        ref_name = "DeviceNear"

    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField()
    kind_display = serializers.CharField(source="get_kind_display")
    lat = serializers.FloatField()
    lng = serializers.FloatField()
    energized = serializers.BooleanField()
    distance_m = serializers.FloatField()


class DevicesNearApi(OutageWriteApi):
    """Devices near a point of the map, nearest first (to declare or plan an outage there)."""

    class QuerySerializer(serializers.Serializer):
        class Meta:
            ref_name = "DevicesNearQuery"

        lat = serializers.FloatField(min_value=-90, max_value=90)
        lng = serializers.FloatField(min_value=-180, max_value=180)
        radius = serializers.FloatField(required=False, default=800.0, min_value=10, max_value=5000)
        limit = serializers.IntegerField(required=False, default=12, min_value=1, max_value=50)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "DevicesNear"

        results = _DeviceNearSerializer(many=True)

    @extend_schema(
        operation_id="outages_devices_near",
        parameters=[QuerySerializer],
        responses={200: OutputSerializer, 400: ErrorSerializer, 403: ErrorSerializer},
    )
    def get(self, request: Request) -> Response:
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        v = query.validated_data
        rows = selectors.devices_near(
            lat=v["lat"], lng=v["lng"], radius_m=v["radius"], limit=v["limit"]
        )
        return Response({"results": _DeviceNearSerializer(rows, many=True).data})


class PlannedOutagePreviewApi(OutageWriteApi):
    """What a planned / temporary outage on ``devices`` would cut off, and its notice rule,
    before it is scheduled and published (nothing is written)."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PlannedOutagePreviewInput"

        type = fields.outage_type_field()
        devices = fields.device_field(many=True, allow_empty=False)
        planned_start_at = serializers.DateTimeField(required=False)

        def validate_devices(self, value: list[Device]) -> list[Device]:
            if len(value) > 50:
                raise serializers.ValidationError(_("一次最多 50 个设备。"))
            return value

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PlannedOutagePreview"

        customers = serializers.IntegerField()
        important = serializers.IntegerField()
        with_phone = serializers.IntegerField()
        notice_rule = serializers.CharField()
        notice_required = serializers.BooleanField()
        notice_period_hours = serializers.FloatField(allow_null=True)
        short_notice = serializers.BooleanField()

    @extend_schema(
        operation_id="outages_planned_preview",
        request=InputSerializer,
        responses={200: OutputSerializer, 400: ErrorSerializer, 403: ErrorSerializer},
    )
    def post(self, request: Request) -> Response:
        values = self.validated(request)
        return Response(selectors.planned_outage_preview(**values))
