"""Serializer fields the staff outage endpoints share: the outage type, devices and cause by
code, and the optional free-text reason."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from grids.selectors import reference as grid_reference
from outages.models import OutageCause, OutageType


def outage_type_field() -> serializers.SlugRelatedField:
    """An active outage type, by code."""
    return serializers.SlugRelatedField(
        slug_field="code",
        queryset=OutageType.objects.filter(is_active=True).select_related("category"),
    )


def device_field(**kwargs: Any) -> serializers.SlugRelatedField:
    """A device by code (``many=True`` for a list); other options go to the field."""
    return serializers.SlugRelatedField(
        slug_field="code", queryset=grid_reference.devices(), **kwargs
    )


def cause_field() -> serializers.SlugRelatedField:
    """An outage cause by code, optional and nullable."""
    return serializers.SlugRelatedField(
        slug_field="code", queryset=OutageCause.objects.all(), required=False, allow_null=True
    )


def reason_field() -> serializers.CharField:
    """An optional free text of up to 1,000 characters, blank by default (a reason, an
    override reason)."""
    return serializers.CharField(required=False, default="", allow_blank=True, max_length=1000)
