"""``POST /api/v1/scada/events`` — switch-state telemetry from the SCADA/DMS gateway.

Token authentication only (the gateway is a machine: no session, no CSRF), ``scada_gateway``
role only: anonymous → 401, any other user → 403. Body ``{"device": CODE, "event": "open" |
"close", "at", "commanded": bool}``; 201 with what the event did, 200 with the first answer
when the same event (device, event, at) is delivered again. See ``outages.services.scada``.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.authentication import TokenAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from dispatch_center.core import roles
from dispatch_center.core.permissions import HasRole
from outages.api.public import request_user
from outages.api.staff import ErrorSerializer
from outages.models import ScadaEvent
from outages.services.scada import scada_event_apply


def scada_event_answer(record: ScadaEvent, *, duplicate: bool) -> dict[str, Any]:
    """What the gateway is told about one event."""
    return {
        "id": record.pk,
        "device": record.device.code,
        "event": record.event,
        "at": record.at,
        "commanded": record.commanded,
        "outcome": record.outcome,
        "outage": record.outage_id,
        "duplicate": duplicate,
    }


class ScadaEventAnswerSchema(serializers.Serializer):
    """OpenAPI description of ``scada_event_answer``."""

    class Meta:
        ref_name = "ScadaEventAnswer"

    id = serializers.IntegerField()
    device = serializers.CharField()
    event = serializers.CharField()
    at = serializers.DateTimeField()
    commanded = serializers.BooleanField()
    outcome = serializers.CharField(
        help_text="created, confirmed, already_known, commanded, restored, "
        "partially_restored, nothing, stale"
    )
    outage = serializers.IntegerField(allow_null=True)
    duplicate = serializers.BooleanField()


class ScadaEventApi(APIView):
    """Apply one switch-state event (idempotent per device, event and time)."""

    authentication_classes = [TokenAuthentication]
    permission_classes = [IsAuthenticated, HasRole(roles.SCADA_GATEWAY)]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ScadaEventInput"

        device = serializers.CharField(max_length=96)
        event = serializers.ChoiceField(choices=ScadaEvent.Event.choices)
        at = serializers.DateTimeField()
        commanded = serializers.BooleanField(required=False, default=False)

    @extend_schema(
        operation_id="scada_event_create",
        request=InputSerializer,
        responses={
            201: ScadaEventAnswerSchema,
            200: ScadaEventAnswerSchema,
            400: ErrorSerializer,
            401: ErrorSerializer,
            403: ErrorSerializer,
        },
        tags=["scada"],
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = scada_event_apply(
            device_code=data["device"],
            event=data["event"],
            at=data["at"],
            commanded=data.get("commanded", False),
            actor=request_user(request),
        )
        return Response(
            scada_event_answer(result.event, duplicate=result.duplicate),
            status=status.HTTP_200_OK if result.duplicate else status.HTTP_201_CREATED,
        )
