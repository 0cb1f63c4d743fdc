"""REST endpoints of the grids app (contract: ../shared/API.md)."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from dispatch_center.core.permissions import IsStaffRole
from grids.selectors import service_point_search
from grids.selectors.search import MAX_LIMIT


class ServicePointSearchApi(APIView):
    """Find a customer's service point by account number, phone or address fragment."""

    permission_classes = [IsAuthenticated, IsStaffRole]

    class InputSerializer(serializers.Serializer):
        q = serializers.CharField(
            max_length=200,
            help_text=_("账号、手机号或地址片段（全角/半角、空格、省市区前缀均可）"),
        )
        limit = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, default=10)

        class Meta:
            ref_name = "ServicePointSearchInput"

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField(source="service_point.pk")
        account_no = serializers.CharField(source="service_point.account_no")
        address = serializers.CharField(source="service_point.address")
        district = serializers.CharField(
            source="service_point.district.name", allow_null=True, default=None
        )
        lat = serializers.FloatField(source="service_point.lat")
        lng = serializers.FloatField(source="service_point.lng")
        transformer = serializers.CharField(source="service_point.transformer.code")
        score = serializers.FloatField(min_value=0, max_value=1)

        class Meta:
            ref_name = "ServicePointSearchResult"

    @extend_schema(
        operation_id="service_points_search",
        summary="Search service points",
        description=(
            "Ranked matches: exact account number or phone first (score 1.0), then addresses "
            "starting with, containing, or (PostgreSQL) similar to the fragment. A district "
            "written as the prefix of q narrows the search to it. Staff roles only."
        ),
        parameters=[InputSerializer],
        responses={
            200: inline_serializer(
                name="ServicePointSearchResponse",
                fields={"results": OutputSerializer(many=True)},
            ),
            400: OpenApiResponse(description="q missing or blank, or limit out of range."),
            401: OpenApiResponse(description="Not logged in."),
            403: OpenApiResponse(description="Not a dispatcher, hotline agent or supervisor."),
        },
        examples=[
            OpenApiExample(
                "Address fragment",
                response_only=True,
                value={
                    "results": [
                        {
                            "id": 1,
                            "account_no": "0300000012",
                            "address": "深圳市福田区华富街道深南中路1003号荔枝苑3栋1204",
                            "district": "福田区",
                            "lat": 22.5431,
                            "lng": 114.0702,
                            "transformer": "440304009-F1-T07",
                            "score": 0.62,
                        }
                    ]
                },
            )
        ],
        tags=["service points"],
    )
    def get(self, request: Request) -> Response:
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        hits = service_point_search(
            q=params.validated_data["q"], limit=params.validated_data["limit"]
        )
        return Response({"results": self.OutputSerializer(hits, many=True).data})
