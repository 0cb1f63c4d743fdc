"""Staff endpoints of the trouble report intake (hotline agents, dispatchers, supervisors).

- ``POST /api/v1/reports`` — record a call (channel ``hotline`` by default) for a known
  service point (``service_point``) or by account / address / coordinates; same service as
  the public endpoint, same ``Idempotency-Key`` rules.
- ``GET /api/v1/reports?status=needs_resolution`` — reports, newest first (paginated).
- ``GET /api/v1/reports/{id}`` — one report.
- ``POST /api/v1/reports/{id}/resolve`` — ``{"service_point": id}``: the agent found the
  premise; the report is merged or left to the roll-up as at intake.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from dispatch_center.core import roles
from dispatch_center.core.api import DefaultPagination
from dispatch_center.core.exceptions import DomainError
from dispatch_center.core.permissions import HasRole
from grids.models import ServicePoint
from grids.selectors import reference as grid_reference
from outages.api.public import idempotency_client, idempotency_key, request_user
from outages.api.staff import ErrorSerializer
from outages.models import Outage, TroubleReport
from outages.selectors.intake import report_get, report_list
from outages.services.intake import ReportInput, report_message, report_resolve, report_submit
from outages.views.public import is_valid_phone


class StaffReportSchema(serializers.Serializer):
    """OpenAPI description of ``staff_report``."""

    class Meta:
        ref_name = "StaffReport"

    id = serializers.IntegerField()
    reference = serializers.CharField()
    status = serializers.ChoiceField(choices=TroubleReport.Status.choices)
    channel = serializers.CharField()
    symptom = serializers.CharField()
    contact_phone = serializers.CharField()
    contact_name = serializers.CharField()
    raw_address = serializers.CharField()
    raw_account_no = serializers.CharField()
    lat = serializers.FloatField(allow_null=True)
    lng = serializers.FloatField(allow_null=True)
    description = serializers.CharField()
    received_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)
    service_point = serializers.DictField(allow_null=True, help_text="id, account_no, address")
    outage = serializers.DictField(allow_null=True, help_text="the linked outage in brief")
    message = serializers.CharField()


class StaffReportPageSchema(serializers.Serializer):
    class Meta:
        ref_name = "StaffReportPage"

    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = StaffReportSchema(many=True)


IntakeRoles = HasRole(roles.HOTLINE_AGENT, roles.DISPATCHER, roles.SUPERVISOR)
STAFF_CHANNELS = [
    (c.value, c.label) for c in TroubleReport.Channel if c != TroubleReport.Channel.SCADA
]


def staff_report(report: TroubleReport) -> dict[str, Any]:
    """A report as staff see it (contact details included). Relations loaded by the caller."""
    sp = report.service_point
    return {
        "id": report.pk,
        "reference": report.reference,
        "status": report.status,
        "channel": report.channel,
        "symptom": report.symptom,
        "contact_phone": report.contact_phone,
        "contact_name": report.contact_name,
        "raw_address": report.raw_address,
        "raw_account_no": report.raw_account_no,
        "lat": report.lat,
        "lng": report.lng,
        "description": report.description,
        "received_at": report.received_at,
        "resolved_at": report.resolved_at,
        "service_point": (
            {"id": sp.pk, "account_no": sp.account_no, "address": sp.address} if sp else None
        ),
        "outage": _staff_outage(report.outage) if report.outage is not None else None,
        "message": report_message(report),
    }


def _staff_outage(outage: Outage) -> dict[str, Any]:
    """The linked outage in brief (its detail and timeline: ``/api/v1/outages/{id}``)."""
    return {
        "id": outage.pk,
        "status": outage.status,
        "category": outage.type.category.code,
        "type": outage.type.code,
        "cause": outage.cause.code if outage.cause else None,
        "started_at": outage.started_at,
        "etr": outage.etr,
        "customers_affected": outage.customers_affected,
    }


def _service_point(pk: int | None, field: str = "service_point") -> ServicePoint | None:
    if pk is None:
        return None
    found = grid_reference.service_point_by_id(pk)
    if found is None:
        message = _("用电户 %(id)s 不存在。") % {"id": pk}
        raise DomainError(message, code="invalid", fields={field: [message]})
    return found


class ReportCreateApi(APIView):
    """Record a call for the hotline (or any staff channel)."""

    permission_classes = [IsAuthenticated, IntakeRoles]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "StaffReportInput"

        service_point = serializers.IntegerField(required=False, allow_null=True, min_value=1)
        account_no = serializers.CharField(
            max_length=32, required=False, allow_blank=True, allow_null=True
        )
        address = serializers.CharField(
            max_length=200, required=False, allow_blank=True, allow_null=True
        )
        lat = serializers.FloatField(min_value=-90, max_value=90, required=False, allow_null=True)
        lng = serializers.FloatField(min_value=-180, max_value=180, required=False, allow_null=True)
        symptom = serializers.ChoiceField(choices=TroubleReport.Symptom.choices)
        phone = serializers.CharField(max_length=20)
        contact_name = serializers.CharField(max_length=64, required=False, allow_blank=True)
        description = serializers.CharField(max_length=1000, required=False, allow_blank=True)
        channel = serializers.ChoiceField(
            choices=STAFF_CHANNELS, required=False, default=TroubleReport.Channel.HOTLINE
        )

        def validate_phone(self, value: str) -> str:
            value = value.replace(" ", "")
            if not is_valid_phone(value):
                raise serializers.ValidationError(_("请输入有效的手机号码或带区号的固定电话。"))
            return value

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            lat, lng = attrs.get("lat"), attrs.get("lng")
            if (lat is None) != (lng is None):
                message = _("经纬度需要同时提供。")
                raise serializers.ValidationError({"lat": [message], "lng": [message]})
            given = [
                bool(attrs.get("service_point")),
                bool((attrs.get("account_no") or "").strip()),
                bool((attrs.get("address") or "").strip()),
                lat is not None,
            ]
            if sum(given) != 1:
                raise serializers.ValidationError(
                    {"location": [_("请填写用电户、户号、地址或位置坐标中的一项。")]}
                )
            return attrs

    @extend_schema(
        operation_id="reports_create",
        request=InputSerializer,
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
        responses={
            201: StaffReportSchema,
            200: StaffReportSchema,
            400: ErrorSerializer,
            403: ErrorSerializer,
            422: ErrorSerializer,
        },
        tags=["reports"],
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        sp = _service_point(data.get("service_point"))
        result = report_submit(
            data=ReportInput(
                channel=data.get("channel") or TroubleReport.Channel.HOTLINE,
                symptom=data["symptom"],
                contact_phone=data["phone"],
                contact_name=(data.get("contact_name") or "").strip(),
                description=(data.get("description") or "").strip(),
                account_no=(data.get("account_no") or "").strip(),
                address=(data.get("address") or "").strip(),
                lat=data.get("lat"),
                lng=data.get("lng"),
                service_point_id=sp.pk if sp else None,
            ),
            actor=request_user(request),
            idempotency_client=idempotency_client(request),
            idempotency_key=idempotency_key(request),
        )
        report = report_get(report_id=result.report.pk)
        return Response(
            staff_report(report),
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )


class ReportListApi(APIView):
    """Reports, newest first; ``?status=needs_resolution`` for the agents' queue."""

    permission_classes = [IsAuthenticated, IntakeRoles]

    class FilterSerializer(serializers.Serializer):
        class Meta:
            ref_name = "StaffReportFilter"

        status = serializers.ChoiceField(
            choices=TroubleReport.Status.choices, required=False, allow_blank=True
        )

    @extend_schema(
        operation_id="reports_list",
        parameters=[FilterSerializer],
        responses={200: StaffReportPageSchema, 400: ErrorSerializer, 403: ErrorSerializer},
        tags=["reports"],
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        qs = report_list(status=filters.validated_data.get("status") or None)
        paginator = DefaultPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response([staff_report(r) for r in page or []])


class ReportsApi(ReportListApi, ReportCreateApi):
    """``/api/v1/reports``: GET lists (``ReportListApi``), POST records a call
    (``ReportCreateApi``); one URL, the two operations stay separate classes."""


class ReportDetailApi(APIView):
    """One report."""

    permission_classes = [IsAuthenticated, IntakeRoles]

    @extend_schema(
        operation_id="reports_retrieve",
        responses={200: StaffReportSchema, 403: ErrorSerializer, 404: ErrorSerializer},
        tags=["reports"],
    )
    def get(self, request: Request, report_id: int) -> Response:
        return Response(staff_report(report_get(report_id=report_id)))


class ReportResolveApi(APIView):
    """Attach the service point an agent found to a ``needs_resolution`` report."""

    permission_classes = [IsAuthenticated, IntakeRoles]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "StaffReportResolveInput"

        service_point = serializers.IntegerField(min_value=1)

    @extend_schema(
        operation_id="reports_resolve",
        request=InputSerializer,
        responses={
            200: StaffReportSchema,
            400: ErrorSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
            409: ErrorSerializer,
        },
        tags=["reports"],
    )
    def post(self, request: Request, report_id: int) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        sp = _service_point(serializer.validated_data["service_point"])
        assert sp is not None
        report_get(report_id=report_id)  # 404 before anything else
        report_resolve(report_id=report_id, service_point=sp, actor=request_user(request))
        return Response(staff_report(report_get(report_id=report_id)))
