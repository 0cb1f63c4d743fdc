"""Public subscriptions to outage updates: subscribe, unsubscribe (the API).

- ``POST /api/v1/public/subscriptions`` — ``{"channel": "sms" | "email", "phone" | "email",
  one of "outage_id" / "address" / "account_no", "language"}`` → 201 (200 when the same
  subscription already existed) with the subscription, its recipient *masked*, and a
  confirmation message; a confirmation is also sent to the recipient.
- ``POST /api/v1/public/subscriptions/unsubscribe`` — ``{"token"}`` (from the link).
- The page the link in each message opens is ``outages.views.subscriptions``.

No login, rate-limited with the ``public`` throttle scope. CSRF-safe without a session: the
API accepts ``application/json`` only, which a cross-site form cannot send (a cross-site
script cannot either without a CORS preflight, which we do not grant), and it reads no
cookie. Answers never echo a contact in full and never carry an id that could be used to
enumerate other people's subscriptions.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from dispatch_center.core.i18n import is_english
from dispatch_center.core.parsers import SafeJSONParser
from outages.api.public import PublicRateThrottle
from outages.api.staff import ErrorSerializer
from outages.models import Subscription
from outages.notifications import (
    mask_recipient,
    subscription_cancel,
    subscription_create,
)


class _PublicJsonApi(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = [PublicRateThrottle]
    renderer_classes = [JSONRenderer]
    parser_classes = [SafeJSONParser]


def _language_default() -> str:
    return Subscription.Language.EN if is_english() else Subscription.Language.ZH_HANS


def public_subscription(subscription: Subscription, *, created: bool) -> dict[str, Any]:
    """The public answer about a subscription: masked recipient, target, no ids of people."""
    target = (
        {"outage_id": subscription.outage_id, "address": None}
        if subscription.outage_id
        else {"outage_id": None, "address": subscription.address}
    )
    if created:
        message = _("订阅成功，确认消息已发送至 %(recipient)s。") % {
            "recipient": mask_recipient(subscription.recipient)
        }
    else:
        message = _("%(recipient)s 已订阅过该通知，无需重复订阅。") % {
            "recipient": mask_recipient(subscription.recipient)
        }
    return {
        "status": "subscribed",
        "created": created,
        "channel": subscription.channel,
        "recipient": mask_recipient(subscription.recipient),
        "language": subscription.language,
        "target": target,
        "expires_at": subscription.expires_at.isoformat() if subscription.expires_at else None,
        "message": message,
    }


class SubscriptionTargetSchema(serializers.Serializer):
    class Meta:
        ref_name = "PublicSubscriptionTarget"

    outage_id = serializers.IntegerField(allow_null=True)
    address = serializers.CharField(allow_null=True)


class SubscriptionSchema(serializers.Serializer):
    class Meta:
        ref_name = "PublicSubscription"

    status = serializers.CharField()
    created = serializers.BooleanField()
    channel = serializers.ChoiceField(choices=Subscription.Channel.choices)
    recipient = serializers.CharField(help_text="masked, e.g. 138****8000")
    language = serializers.CharField()
    target = SubscriptionTargetSchema()
    expires_at = serializers.DateTimeField(allow_null=True)
    message = serializers.CharField()


class PublicSubscribeApi(_PublicJsonApi):
    """Subscribe a phone (SMS) or an e-mail address to an outage or an address."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PublicSubscriptionInput"

        channel = serializers.ChoiceField(choices=Subscription.Channel.choices)
        phone = serializers.CharField(max_length=20, required=False, allow_blank=True)
        email = serializers.CharField(max_length=254, required=False, allow_blank=True)
        outage_id = serializers.IntegerField(min_value=1, required=False, allow_null=True)
        address = serializers.CharField(max_length=200, required=False, allow_blank=True)
        account_no = serializers.CharField(max_length=32, required=False, allow_blank=True)
        language = serializers.ChoiceField(choices=Subscription.Language.choices, required=False)

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            field = "phone" if attrs["channel"] == Subscription.Channel.SMS else "email"
            if not (attrs.get(field) or "").strip():
                raise serializers.ValidationError({field: [_("请填写接收通知的号码或邮箱。")]})
            return attrs

    @extend_schema(
        operation_id="public_subscription_create",
        request=InputSerializer,
        responses={
            201: SubscriptionSchema,
            200: SubscriptionSchema,
            400: ErrorSerializer,
            409: ErrorSerializer,
            415: ErrorSerializer,
            429: ErrorSerializer,
        },
        tags=["public"],
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        channel = data["channel"]
        result = subscription_create(
            channel=channel,
            recipient=data.get("phone" if channel == Subscription.Channel.SMS else "email", ""),
            language=data.get("language") or _language_default(),
            outage_id=data.get("outage_id"),
            address=data.get("address") or "",
            account_no=data.get("account_no") or "",
        )
        return Response(
            public_subscription(result.subscription, created=result.created),
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )


class PublicUnsubscribeApi(_PublicJsonApi):
    """Unsubscribe with the signed token of the link in every message (idempotent)."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PublicUnsubscribeInput"

        token = serializers.CharField(max_length=200)

    @extend_schema(
        operation_id="public_subscription_cancel",
        request=InputSerializer,
        responses={200: dict, 400: ErrorSerializer, 404: ErrorSerializer, 429: ErrorSerializer},
        tags=["public"],
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        subscription_cancel(token=serializer.validated_data["token"])
        return Response({"status": "unsubscribed", "message": _("已退订，您将不再收到该通知。")})
