"""REST endpoints of the reliability app (staff), mounted under /api/v1/reliability/.

One class per operation: validate → service / selector → serialize. Dispatchers, supervisors
and hotline agents read; dispatchers and supervisors acknowledge alerts.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from dispatch_center.core import roles
from dispatch_center.core.permissions import HasRole
from reliability import selectors, services
from reliability.models import DailyReliability, FrequentOutageAlert

CanRead = HasRole(roles.DISPATCHER, roles.SUPERVISOR, roles.HOTLINE_AGENT)
CanWrite = HasRole(roles.DISPATCHER, roles.SUPERVISOR)
ALERT_LIST_LIMIT = 200


class AlertSerializer(serializers.Serializer):
    """A frequent-outage alert with its customer and place."""

    class Meta:
        ref_name = "FrequentOutageAlert"

    id = serializers.IntegerField()
    level = serializers.CharField()
    level_display = serializers.CharField(source="get_level_display")
    status = serializers.CharField()
    reasons = serializers.ListField(child=serializers.CharField())
    counts = serializers.DictField()
    exclusions = serializers.ListField(child=serializers.CharField())
    period_start = serializers.DateField()
    as_of = serializers.DateField()
    first_raised_at = serializers.DateTimeField()
    last_changed_at = serializers.DateTimeField()
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    acknowledged_by = serializers.CharField(source="acknowledged_by.username", allow_null=True)
    action_note = serializers.CharField()
    work_order_id = serializers.IntegerField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    close_reason = serializers.CharField()
    service_point = serializers.SerializerMethodField()

    def get_service_point(self, alert: FrequentOutageAlert) -> dict[str, Any]:
        sp = alert.service_point
        feeder = sp.transformer.feeder
        return {
            "id": sp.pk,
            "account_no": sp.account_no,
            "address": sp.address,
            "lat": sp.lat,
            "lng": sp.lng,
            "transformer": sp.transformer.code,
            "feeder": feeder.name,
            "grid": sp.grid.name if sp.grid else None,
        }


class AlertListApi(APIView):
    """Frequent-outage alerts: open ones by default, unacknowledged first, frequent before
    warning, newest first (at most 200)."""

    permission_classes = [IsAuthenticated, CanRead]

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=["open", "closed", "all"], required=False)
        level = serializers.ChoiceField(choices=["warning", "frequent"], required=False)
        service_point = serializers.IntegerField(required=False)

    @extend_schema(
        parameters=[FilterSerializer],
        responses={
            200: inline_serializer(
                "FrequentOutageAlertList",
                {
                    "unacknowledged": serializers.IntegerField(),
                    "results": AlertSerializer(many=True),
                },
            )
        },
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        qs = selectors.alert_list(filters=filters.validated_data)
        unacknowledged = qs.filter(acknowledged_at__isnull=True).count()
        rows = list(qs[:ALERT_LIST_LIMIT])
        return Response(
            {
                "unacknowledged": unacknowledged,
                "results": AlertSerializer(rows, many=True).data,
            }
        )


class AlertAcknowledgeApi(APIView):
    """Acknowledge an alert, optionally saying what was done (idempotent)."""

    permission_classes = [IsAuthenticated, CanWrite]

    class InputSerializer(serializers.Serializer):
        note = serializers.CharField(required=False, allow_blank=True, max_length=2000)

    @extend_schema(request=InputSerializer, responses={200: AlertSerializer})
    def post(self, request: Request, alert_id: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        alert = selectors.alert_get(alert_id=alert_id)
        user: User = request.user  # type: ignore[assignment]
        services.alert_acknowledge(
            alert=alert, actor=user, note=data.validated_data.get("note", "")
        )
        return Response(AlertSerializer(selectors.alert_get(alert_id=alert_id)).data)


class CustomerStatusApi(APIView):
    """A customer's frequent-outage level and count this period (the hotline agent's line)."""

    permission_classes = [IsAuthenticated, CanRead]

    @extend_schema(responses={200: serializers.DictField()})
    def get(self, request: Request, service_point_id: int) -> Response:
        return Response(selectors.customer_status(service_point_id=service_point_id))


class AggregatesApi(APIView):
    """Frequent and warning customers per transformer, feeder, grid, district or station;
    transformers and feeders flagged where an inspection should go."""

    permission_classes = [IsAuthenticated, CanRead]

    class FilterSerializer(serializers.Serializer):
        by = serializers.ChoiceField(choices=sorted(selectors.AGGREGATE_FIELDS), default="feeder")

    @extend_schema(parameters=[FilterSerializer], responses={200: serializers.DictField()})
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        by = filters.validated_data["by"]
        return Response({"by": by, "results": selectors.alert_aggregates(by=by)})


class IndicesApi(APIView):
    """SAIFI, SAIDI, CAIDI, MAIFI and ASAI from the stored daily figures, for a period (the
    calendar year to date by default), per scope id; split all / planned / fault."""

    permission_classes = [IsAuthenticated, CanRead]

    class FilterSerializer(serializers.Serializer):
        date_from = serializers.DateField(required=False)
        date_to = serializers.DateField(required=False)
        scope = serializers.ChoiceField(
            choices=DailyReliability.Scope.values, default=DailyReliability.Scope.CITY
        )
        split = serializers.ChoiceField(
            choices=DailyReliability.Split.values, default=DailyReliability.Split.ALL
        )
        exclude_major_events = serializers.BooleanField(default=False)

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            today = timezone.localdate()
            attrs.setdefault("date_to", today - timedelta(days=1))
            attrs.setdefault("date_from", date(attrs["date_to"].year, 1, 1))
            if attrs["date_from"] > attrs["date_to"]:
                raise serializers.ValidationError({"date_from": ["must not be after date_to"]})
            return attrs

    @extend_schema(parameters=[FilterSerializer], responses={200: serializers.DictField()})
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        f = filters.validated_data
        results = selectors.reliability_indices(
            date_from=f["date_from"],
            date_to=f["date_to"],
            scope=f["scope"],
            split=f["split"],
            exclude_major_events=f["exclude_major_events"],
        )
        return Response(
            {
                "from": f["date_from"].isoformat(),
                "to": f["date_to"].isoformat(),
                "scope": f["scope"],
                "split": f["split"],
                "exclude_major_events": f["exclude_major_events"],
                "results": results,
            }
        )


class PlannedPreviewApi(APIView):
    """Before a planned outage is published: the customers it would push into warning or
    frequent, by feeder."""

    permission_classes = [IsAuthenticated, CanWrite]

    @extend_schema(responses={200: serializers.DictField()})
    def get(self, request: Request, outage_id: int) -> Response:
        return Response(selectors.planned_preview(outage_id=outage_id))


class PlannedPreviewListApi(APIView):
    """The preview of each planned outage not yet published, soonest first."""

    permission_classes = [IsAuthenticated, CanWrite]

    @extend_schema(responses={200: serializers.DictField()})
    def get(self, request: Request) -> Response:
        return Response({"results": selectors.planned_previews()})


class CustomerIndicesApi(APIView):
    """Every index (CAIFI and CEMI-n included) of one scope and period, from the customers'
    own interruptions."""

    permission_classes = [IsAuthenticated, CanRead]

    class FilterSerializer(IndicesApi.FilterSerializer):
        id = serializers.IntegerField(default=0, min_value=0)

    @extend_schema(parameters=[FilterSerializer], responses={200: serializers.DictField()})
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        f = filters.validated_data
        return Response(
            selectors.reliability_customer_indices(
                date_from=f["date_from"],
                date_to=f["date_to"],
                scope=f["scope"],
                scope_id=f["id"],
                split=f["split"],
            )
        )
