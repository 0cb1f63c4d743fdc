"""The crew board of the console: every crew on the map, and putting one on or off duty."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from dispatch_center.core.exceptions import NotFound
from dispatch_center.core.serializers import RefSerializer
from grids.models import Crew
from workorders import selectors, services

from .access import CanReadOrders, CanWriteOrders, request_actor
from .serializers import WRITE_ERRORS


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
    grid = RefSerializer(source="station.grid")
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
        responses={200: CrewBoardSerializer, **WRITE_ERRORS},
    )
    def post(self, request: Request, crew_id: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        crew = selectors.crew_board().filter(pk=crew_id).first()
        if crew is None:
            raise NotFound(_("班组不存在。"))
        services.crew_set_on_duty(
            crew=crew, on_duty=data.validated_data["on_duty"], actor=request_actor(request)
        )
        return Response(CrewBoardSerializer(selectors.crew_board().get(pk=crew_id)).data)
