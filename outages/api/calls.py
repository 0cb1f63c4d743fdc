"""Staff endpoint of the hotline call log (hotline agents, dispatchers, supervisors).

- ``POST /api/v1/calls`` — record one call about a known service point: a fault report
  (through the intake and its merge rules), an enquiry, or the call in which a complaint was
  registered; with the handling time the client measured (optional, whole seconds, never
  negative). The same service as the agent page's call form (``outages.services.calls``).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from dispatch_center.core.serializers import ErrorSerializer
from outages.api.reports import IntakeRoles, _service_point
from outages.models import CallLog, TroubleReport
from outages.services.calls import call_record
from outages.views.public import is_valid_phone


class CallSchema(serializers.Serializer):
    """OpenAPI description of a recorded call."""

    class Meta:
        ref_name = "CallLogEntry"

    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=CallLog.Kind.choices)
    service_point = serializers.IntegerField()
    report = serializers.CharField(allow_null=True, help_text="the report's reference")
    outage = serializers.IntegerField(allow_null=True)
    told = serializers.CharField(help_text="what the caller was told")
    handling_seconds = serializers.IntegerField(allow_null=True, min_value=0)
    at = serializers.DateTimeField()


class CallCreateApi(APIView):
    """Record a hotline call for a known service point."""

    permission_classes = [IsAuthenticated, IntakeRoles]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CallLogInput"

        service_point = serializers.IntegerField(min_value=1)
        kind = serializers.ChoiceField(choices=CallLog.Kind.choices)
        phone = serializers.CharField(max_length=20)
        symptom = serializers.ChoiceField(
            choices=TroubleReport.Symptom.choices, required=False, allow_blank=True
        )
        note = serializers.CharField(max_length=1000, required=False, allow_blank=True)
        handling_seconds = serializers.IntegerField(
            min_value=0,
            max_value=86_400,
            required=False,
            allow_null=True,
            help_text="seconds from finding the caller to recording the call",
        )

        def validate_phone(self, value: str) -> str:
            value = value.replace(" ", "")
            if not is_valid_phone(value):
                raise serializers.ValidationError(_("请输入有效的手机号码或带区号的固定电话。"))
            return value

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            if attrs["kind"] == CallLog.Kind.FAULT and not attrs.get("symptom"):
                raise serializers.ValidationError({"symptom": [_("请选择故障现象。")]})
            return attrs

    @extend_schema(
        operation_id="calls_create",
        request=InputSerializer,
        responses={201: CallSchema, 400: ErrorSerializer, 403: ErrorSerializer},
        tags=["reports"],
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        sp = _service_point(data["service_point"])
        assert sp is not None  # noqa: S101  # a required id, checked above
        user = request.user
        assert isinstance(user, User)  # noqa: S101  # IsAuthenticated
        result = call_record(
            agent=user,
            service_point=sp,
            kind=data["kind"],
            caller_phone=data["phone"],
            symptom=data.get("symptom") or TroubleReport.Symptom.NO_POWER,
            note=(data.get("note") or "").strip(),
            handling_seconds=data.get("handling_seconds"),
        )
        call = result.call
        body = {
            "id": call.pk,
            "kind": call.kind,
            "service_point": sp.pk,
            "report": result.report.reference if result.report else None,
            "outage": result.outage.pk if result.outage else None,
            "told": call.told,
            "handling_seconds": call.handling_seconds,
            "at": call.at,
        }
        return Response(CallSchema(body).data, status=status.HTTP_201_CREATED)
