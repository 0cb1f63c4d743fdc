"""The text of the notifications: composed messages, masked contacts, unsubscribe links.

Messages are Chinese, or English for a subscriber who chose English, and end with an
unsubscribe link carrying a signed token (``django.core.signing``) that names the subscription.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from outages.models import Outage, Subscription

UNSUBSCRIBE_SALT = "outages.subscription.unsubscribe"

KIND_ETR = "etr"
KIND_RESTORED = "restored"
KIND_SUBSCRIBED = "subscribed"
KIND_NOTICE = "notice"


def mask_recipient(recipient: str) -> str:
    """A phone or e-mail address as a public answer may show it: ``138****8000``,
    ``z***@example.com``. Never the whole value."""
    value = recipient.strip()
    if "@" in value:
        local, _sep, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    if len(value) >= 7:
        return f"{value[:3]}****{value[-4:]}"
    return "****"


def unsubscribe_token(subscription: Subscription) -> str:
    """A signed, URL-safe token naming ``subscription`` (no expiry: a link in an old message
    must still work)."""
    return signing.dumps({"s": subscription.pk}, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_url(subscription: Subscription) -> str:
    """The absolute unsubscribe link of ``subscription`` (``PUBLIC_BASE_URL``)."""
    base = getattr(settings, "PUBLIC_BASE_URL", "").rstrip("/")
    return base + reverse("public-unsubscribe", args=[unsubscribe_token(subscription)])


@dataclass(frozen=True, slots=True)
class Message:
    """A composed message."""

    subject: str
    body: str


def _local(value: datetime, language: str) -> str:
    local = timezone.localtime(value)
    if language == Subscription.Language.EN:
        return local.strftime("%d %b %H:%M").lstrip("0")
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def _name(obj: Any, language: str) -> str:
    if obj is None:
        return ""
    name_en = getattr(obj, "name_en", None)
    if language == Subscription.Language.EN and name_en:
        return str(name_en)
    return str(obj.name)


def _target(subscription: Subscription, outage: Outage | None) -> str:
    """What the subscriber follows, in words: the address, or the outage's place and type."""
    lang = subscription.language
    if subscription.address:
        return _("%(address)s所在区域的停电") % {"address": subscription.address}
    if outage is None:
        return _("该停电事件")
    district = _name(outage.district, lang)
    return _("%(district)s%(type)s（编号 %(id)s）") % {
        "district": district + (" " if district and lang == "en" else ""),
        "type": _name(outage.type, lang),
        "id": outage.pk,
    }


def _notice_text(outage: Outage | None, lang: str) -> str:
    """The notice of a planned / temporary outage: when, where and why."""
    if outage is None or outage.planned_start_at is None:
        raise ValueError("a notice needs a planned outage")
    end = outage.planned_end_at or outage.planned_start_at
    return _(
        "因%(reason)s，您所在区域计划于 %(start)s 至 %(end)s 停电（编号 %(id)s），请提前做好准备。"
    ) % {
        "reason": outage.description or _name(outage.type, lang),
        "start": _local(outage.planned_start_at, lang),
        "end": _local(end, lang),
        "id": outage.pk,
    }


def compose(
    kind: str,
    *,
    subscription: Subscription,
    outage: Outage | None,
    etr: datetime | None = None,
    restored_at: datetime | None = None,
) -> Message:
    """The message of ``kind`` (``etr``, ``restored``, ``notice``, ``subscribed``) for
    ``subscription``,
    in its language, with the unsubscribe link."""
    lang = subscription.language
    with translation.override(lang):
        target = _target(subscription, outage)
        if kind == KIND_ETR:
            subject = _("停电预计恢复时间更新")
            if etr is not None:
                text = _("您关注的%(target)s，预计恢复供电时间更新为 %(etr)s。") % {
                    "target": target,
                    "etr": _local(etr, lang),
                }
            else:
                text = _("您关注的%(target)s，预计恢复时间正在重新评估。") % {"target": target}
        elif kind == KIND_RESTORED:
            subject = _("已恢复供电")
            text = _(
                "您关注的%(target)s已于 %(at)s 恢复供电。如仍无电，请拨打 95598 或在线报修。"
            ) % {"target": target, "at": _local(restored_at or timezone.now(), lang)}
        elif kind == KIND_NOTICE:
            subject = _("计划停电通知")
            text = _notice_text(outage, lang)
        elif kind == KIND_SUBSCRIBED:
            subject = _("停电通知订阅成功")
            text = _("您已订阅%(target)s的进展通知：预计恢复时间变化和恢复供电时将通知您。") % {
                "target": target
            }
        else:
            raise ValueError(f"unknown notification kind {kind!r}")
        sign = _("【深圳供电】")
        footer = _("退订：%(url)s") % {"url": unsubscribe_url(subscription)}
        separator = " " if lang == Subscription.Language.EN else ""
        return Message(subject=str(subject), body=separator.join([sign + text, footer]))
