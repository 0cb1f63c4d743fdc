"""REST endpoints of the complaints app (contract: shared/API.md, "Complaints (staff)").

Staff only: hotline agents, dispatchers and supervisors register complaints and read them;
the investigation (status changes, trace, accountability, remedy list) is for dispatchers and
supervisors.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from complaints import exports, selectors, services
from complaints.models import Accountability, Complaint, ServiceStep
from dispatch_center.core import roles
from dispatch_center.core.dates import iso
from dispatch_center.core.exceptions import DomainError
from dispatch_center.core.permissions import HasRole, IsStaffRole
from dispatch_center.core.serializers import ErrorSerializer

IsInvestigator = HasRole(roles.DISPATCHER, roles.SUPERVISOR)
MAX_SIMILAR = 500


IDEMPOTENCY_KEY_RE = re.compile(r"^[\x21-\x7e]{1,64}$")


def idempotency_key(request: Request) -> str | None:
    """The ``Idempotency-Key`` header, checked; None when absent."""
    key = request.headers.get("Idempotency-Key") or None
    if key is not None and not IDEMPOTENCY_KEY_RE.match(key):
        message = _("Idempotency-Key 必须是 1 到 64 个可见 ASCII 字符。")
        raise DomainError(message, code="invalid", fields={"Idempotency-Key": [message]})
    return key


def complaint_payload(c: Complaint) -> dict[str, Any]:
    """The contract's answer for one complaint."""
    return {
        "id": c.pk,
        "reference": c.reference,
        "category": c.category.code,
        "status": c.status,
        "channel": c.channel,
        "service_point": c.service_point_id,
        "received_at": iso(c.received_at),
        "contact_due": iso(c.contact_due_at),
        "reply_due": iso(c.reply_due_at),
        "risk": c.risk,
        "flags": sorted(f.code for f in c.flags.all()),
        "links": selectors.complaint_links_by_kind(c),
    }


class ComplaintOutput(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    category = serializers.CharField()
    status = serializers.ChoiceField(choices=Complaint.Status.choices)
    channel = serializers.CharField()
    service_point = serializers.IntegerField(allow_null=True)
    received_at = serializers.DateTimeField()
    contact_due = serializers.DateTimeField()
    reply_due = serializers.DateTimeField()
    risk = serializers.ChoiceField(choices=Complaint.Risk.choices)
    flags = serializers.ListField(child=serializers.CharField())
    links = inline_serializer(
        "ComplaintLinks",
        {
            "outages": serializers.ListField(child=serializers.IntegerField()),
            "work_orders": serializers.ListField(child=serializers.IntegerField()),
            "reports": serializers.ListField(child=serializers.IntegerField()),
        },
    )

    class Meta:
        ref_name = "Complaint"


class ComplaintCreateApi(APIView):
    """Register a complaint (hotline, web, other channels, public opinion)."""

    permission_classes = [IsAuthenticated, IsStaffRole]

    class InputSerializer(serializers.Serializer):
        account_no = serializers.CharField(max_length=32, required=False, allow_blank=True)
        service_point = serializers.IntegerField(min_value=1, required=False)
        category = serializers.CharField(max_length=40)
        channel = serializers.CharField(max_length=16, default=Complaint.Channel.HOTLINE)
        text = serializers.CharField(max_length=4000)
        phone = serializers.CharField(max_length=20, required=False, allow_blank=True)
        area = serializers.CharField(max_length=200, required=False, allow_blank=True)
        district = serializers.IntegerField(min_value=1, required=False)

        class Meta:
            ref_name = "ComplaintCreateInput"

    @extend_schema(
        operation_id="complaints_create",
        summary="Register a complaint",
        description=(
            "One of `account_no` / `service_point` names the customer (public opinion may give "
            "only an `area`). Deadlines come from the category and the working-day calendar; "
            "the customer's outages, reports and work orders of the previous 30 days are "
            "linked and risk flags raised. An unknown category or customer is a 400 naming "
            "the field."
        ),
        request=InputSerializer,
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
        responses={
            201: ComplaintOutput,
            200: OpenApiResponse(ComplaintOutput, description="replay of an Idempotency-Key"),
            400: OpenApiResponse(description="names the field"),
        },
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        complaint, created = services.complaint_register(
            idempotency_key=idempotency_key(request),
            category_code=v["category"],
            channel=v["channel"],
            text=v["text"],
            phone=v.get("phone", ""),
            service_point_id=v.get("service_point"),
            account_no=v.get("account_no", ""),
            area=v.get("area", ""),
            district_id=v.get("district"),
            actor=request.user,  # type: ignore[arg-type]
        )
        complaint = selectors.complaint_get_detail(complaint_id=complaint.pk)
        return Response(
            complaint_payload(complaint),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class ComplaintDetailApi(APIView):
    """One complaint (the contract's fields)."""

    permission_classes = [IsAuthenticated, IsStaffRole]

    @extend_schema(operation_id="complaints_detail", responses={200: ComplaintOutput})
    def get(self, request: Request, complaint_id: int) -> Response:
        return Response(
            complaint_payload(selectors.complaint_get_detail(complaint_id=complaint_id))
        )


class ComplaintTransitionApi(APIView):
    """Move a complaint along its lifecycle (closing needs trace and accountability)."""

    permission_classes = [IsAuthenticated, IsInvestigator]

    class InputSerializer(serializers.Serializer):
        to = serializers.ChoiceField(choices=Complaint.Status.choices)
        reason = serializers.CharField(max_length=1000, required=False, allow_blank=True)
        reply = serializers.CharField(max_length=4000, required=False, allow_blank=True)
        version = serializers.IntegerField(min_value=1, required=False)

        class Meta:
            ref_name = "ComplaintTransitionInput"

    @extend_schema(
        operation_id="complaints_transition",
        request=InputSerializer,
        responses={200: ComplaintOutput, 409: OpenApiResponse(description="not allowed / stale")},
    )
    def post(self, request: Request, complaint_id: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        complaint = selectors.complaint_get(complaint_id=complaint_id)
        if "version" in v:
            complaint.version = v["version"]  # the version the client saw
        services.complaint_transition(
            complaint=complaint,
            to=v["to"],
            actor=request.user,  # type: ignore[arg-type]
            reason=v.get("reason", ""),
            reply=v.get("reply", ""),
        )
        return Response(
            complaint_payload(selectors.complaint_get_detail(complaint_id=complaint_id))
        )


class ComplaintTraceApi(APIView):
    """GET: the suggested step at fault (recomputed); POST: confirm the step."""

    permission_classes = [IsAuthenticated, IsInvestigator]

    class InputSerializer(serializers.Serializer):
        step = serializers.ChoiceField(choices=ServiceStep.choices)
        finding = serializers.CharField(max_length=4000, required=False, allow_blank=True)

        class Meta:
            ref_name = "ComplaintTraceInput"

    @staticmethod
    def _out(trace: Any) -> dict[str, Any]:
        return {
            "suggested_step": trace.suggested_step,
            "suggestions": trace.suggestions,
            "step": trace.step,
            "finding": trace.finding,
            "confirmed_at": iso(trace.confirmed_at),
        }

    @extend_schema(operation_id="complaints_trace_suggest", responses={200: dict})
    def get(self, request: Request, complaint_id: int) -> Response:
        complaint = selectors.complaint_get(complaint_id=complaint_id)
        return Response(self._out(services.complaint_trace_suggest(complaint=complaint)))

    @extend_schema(operation_id="complaints_trace_confirm", request=InputSerializer)
    def post(self, request: Request, complaint_id: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        complaint = selectors.complaint_get(complaint_id=complaint_id)
        trace = services.complaint_trace_confirm(
            complaint=complaint,
            step=data.validated_data["step"],
            finding=data.validated_data.get("finding", ""),
            actor=request.user,  # type: ignore[arg-type]
        )
        return Response(self._out(trace))


class ComplaintAccountabilityApi(APIView):
    """Record who answers for a complaint and the assessment's outcome."""

    permission_classes = [IsAuthenticated, IsInvestigator]

    class InputSerializer(serializers.Serializer):
        nature = serializers.ChoiceField(choices=Accountability.Nature.choices)
        unit = serializers.CharField(max_length=80)
        outcome = serializers.ChoiceField(choices=Accountability.Outcome.choices)
        person = serializers.CharField(max_length=64, required=False, allow_blank=True)
        manager = serializers.CharField(max_length=64, required=False, allow_blank=True)
        station = serializers.IntegerField(min_value=1, required=False)
        points = serializers.IntegerField(min_value=0, max_value=100, default=0)
        note = serializers.CharField(max_length=2000, required=False, allow_blank=True)

        class Meta:
            ref_name = "ComplaintAccountabilityInput"

    @extend_schema(operation_id="complaints_accountability", request=InputSerializer)
    def post(self, request: Request, complaint_id: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        complaint = selectors.complaint_get(complaint_id=complaint_id)
        record = services.complaint_accountability_set(
            complaint=complaint,
            nature=v["nature"],
            unit=v["unit"],
            outcome=v["outcome"],
            person=v.get("person", ""),
            manager=v.get("manager", ""),
            station_id=v.get("station"),
            points=v["points"],
            note=v.get("note", ""),
            actor=request.user,  # type: ignore[arg-type]
        )
        return Response(
            {
                "nature": record.nature,
                "unit": record.unit,
                "held_against": record.held_against,
                "outcome": record.outcome,
            }
        )


class ComplaintSimilarApi(APIView):
    """Customers similar to the complaining one, within a radius (standardised features)."""

    permission_classes = [IsAuthenticated, IsStaffRole]

    class InputSerializer(serializers.Serializer):
        radius = serializers.FloatField(min_value=0, max_value=50, default=1.5)
        limit = serializers.IntegerField(min_value=1, max_value=MAX_SIMILAR, default=50)

        class Meta:
            ref_name = "ComplaintSimilarInput"

    @extend_schema(
        operation_id="complaints_similar",
        summary="Similar customers (proactive-contact candidates)",
        description=(
            "Service points whose standardised feature vectors (interruptions and minutes in "
            "90 days, frequent-outage level, repeat reports, SLA breaches, complaints, area "
            "class, important flag, longest interruption) lie within Euclidean `radius` of the "
            "complaining customer's, who have not complained in the last year; sorted by "
            "distance, every distance within the radius. A larger radius never loses a "
            "customer a smaller one found."
        ),
        parameters=[InputSerializer],
        responses={
            200: inline_serializer(
                "ComplaintSimilar",
                {
                    "radius": serializers.FloatField(),
                    "results": inline_serializer(
                        "ComplaintSimilarResult",
                        {
                            "service_point": serializers.IntegerField(),
                            "account_no": serializers.CharField(),
                            "distance": serializers.FloatField(),
                            "features": serializers.DictField(child=serializers.FloatField()),
                        },
                        many=True,
                    ),
                },
            )
        },
    )
    def get(self, request: Request, complaint_id: int) -> Response:
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        radius = params.validated_data["radius"]
        complaint = selectors.complaint_get(complaint_id=complaint_id)
        results = selectors.complaint_similar_customers(
            complaint=complaint, radius=radius, limit=params.validated_data["limit"]
        )
        return Response({"radius": radius, "results": results})


class ComplaintRemedyListApi(APIView):
    """Put the similar customers within a radius on the proactive-contact list."""

    permission_classes = [IsAuthenticated, IsInvestigator]

    @extend_schema(
        operation_id="complaints_remedy_list",
        request=ComplaintSimilarApi.InputSerializer,
        responses={200: inline_serializer("RemedyAdded", {"added": serializers.IntegerField()})},
    )
    def post(self, request: Request, complaint_id: int) -> Response:
        params = ComplaintSimilarApi.InputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        complaint = selectors.complaint_get(complaint_id=complaint_id)
        matches = selectors.complaint_similar_customers(
            complaint=complaint,
            radius=params.validated_data["radius"],
            limit=params.validated_data["limit"],
        )
        added = services.complaint_remedy_list_save(
            complaint=complaint,
            matches=matches,
            actor=request.user,  # type: ignore[arg-type]
        )
        return Response({"added": added})


class ComplaintBulletinApi(APIView):
    """The complaint bulletin for a period, as JSON, CSV or Excel."""

    permission_classes = [IsAuthenticated, IsStaffRole]

    class InputSerializer(serializers.Serializer):
        # ``from`` is a keyword: the field is declared below under its wire name.
        to = serializers.DateField()
        format = serializers.ChoiceField(choices=["json", "csv", "xlsx"], default="json")

        class Meta:
            ref_name = "ComplaintBulletinInput"

    InputSerializer._declared_fields["from"] = serializers.DateField()

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # The contract's ``format`` parameter names a download (csv, xlsx), not one of DRF's
        # renderers: fall back to the first renderer instead of DRF's 404.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        operation_id="complaints_bulletin",
        summary="Complaint bulletin (ten-day / monthly)",
        parameters=[
            OpenApiParameter("from", date, required=True),
            OpenApiParameter("to", date, required=True),
            OpenApiParameter("format", str, enum=["json", "csv", "xlsx"]),
        ],
        responses={200: OpenApiResponse(description="JSON figures, or a CSV / XLSX file")},
    )
    def get(self, request: Request) -> Response | HttpResponse:
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        v = params.validated_data
        if v["from"] > v["to"]:
            message = _("起始日期不能晚于结束日期。")
            raise DomainError(message, code="invalid", fields={"from": [message]})
        data = selectors.complaint_bulletin(start=v["from"], end=v["to"])
        return bulletin_response(data, v["format"])


def bulletin_response(data: dict[str, Any], fmt: str) -> Response | HttpResponse:
    """JSON, or a download named after the period."""
    name = f"complaints-{data['from']}-{data['to']}"
    if fmt == "csv":
        resp = HttpResponse(exports.bulletin_csv(data), content_type="text/csv; charset=utf-8")
        resp["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return resp
    if fmt == "xlsx":
        resp = HttpResponse(
            exports.bulletin_xlsx(data),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        resp["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
        return resp
    return Response(data)


class ComplaintCategoryListApi(APIView):
    """Active categories and sub-categories with their deadlines (for the agent page)."""

    permission_classes = [IsAuthenticated, IsStaffRole]
    pagination_class = None

    @extend_schema(operation_id="complaints_categories", responses={200: dict})
    def get(self, request: Request) -> Response:
        return Response(
            {
                "results": [
                    {
                        "code": c.code,
                        "name": c.name,
                        "name_en": c.name_en,
                        "parent": c.parent.code if c.parent else None,
                        "contact_hours": c.effective_contact_hours,
                        "reply_working_days": c.effective_reply_working_days,
                    }
                    for c in selectors.category_list()
                ],
                "channels": [{"code": k, "name": str(v)} for k, v in Complaint.Channel.choices],
            }
        )


class CustomerRiskApi(APIView):
    """A customer's escalation risk now (the agent page and the console)."""

    permission_classes = [IsAuthenticated, IsStaffRole]

    class InputSerializer(serializers.Serializer):
        service_point = serializers.IntegerField(min_value=1)

        class Meta:
            ref_name = "CustomerRiskInput"

    @extend_schema(
        operation_id="complaints_customer_risk",
        parameters=[InputSerializer],
        responses={200: dict, 404: ErrorSerializer},
    )
    def get(self, request: Request) -> Response:
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        risk = selectors.customer_escalation_risk(
            service_point_id=params.validated_data["service_point"]
        )
        for c in risk["open_complaints"]:
            c["reply_due_at"] = iso(c["reply_due_at"])
        return Response(risk)


class ComplaintAttentionApi(APIView):
    """Open complaints by escalation risk, for the console's panel."""

    permission_classes = [IsAuthenticated, IsStaffRole]

    @extend_schema(operation_id="complaints_attention", responses={200: dict})
    def get(self, request: Request) -> Response:
        rows = selectors.complaints_high_risk_open(limit=10)
        return Response(
            {
                "results": [
                    {
                        "id": c.pk,
                        "reference": c.reference,
                        "status": c.status,
                        "status_label": c.get_status_display(),
                        "risk": c.risk,
                        "risk_label": c.get_risk_display(),
                        "flags": [f.get_code_display() for f in c.flags.all()],
                        "address": c.service_point.address if c.service_point else c.area,
                        "reply_due_at": iso(c.reply_due_at),
                    }
                    for c in rows
                ]
            }
        )
