"""Serializers shared by every app's API: the contract's error body and small references."""

import copy

from django.utils.functional import cached_property
from rest_framework import serializers
from rest_framework.utils.serializer_helpers import BindingDict


class ErrorSerializer(serializers.Serializer):
    """The contract's error body (``dispatch_center.core.api.error_response``)."""

    class Meta:
        ref_name = "Error"

    error = serializers.DictField()


class RefSerializer(serializers.Serializer):
    """A reference row by id and name (a grid, a district...)."""

    class Meta:
        ref_name = "Ref"

    id = serializers.IntegerField()
    name = serializers.CharField()


class CodeNameSerializer(serializers.Serializer):
    """A reference row by code with both names (taxonomy rows)."""

    class Meta:
        ref_name = "CodeName"

    code = serializers.CharField()
    name = serializers.CharField()
    name_en = serializers.CharField()


class PrebuiltFieldsMixin:
    """Fields built once per serializer class, then copied and bound per instance.

    DRF deep-copies every declared field for each serializer instance (``get_fields``), which
    runs every field's ``__init__`` again (validators, choices): on a per-call endpoint that
    costs more than the validation. For a plain serializer whose fields depend neither on the
    context nor on an instance, the fields are built once and each instance gets shallow
    copies, bound to it: the same field objects' state as a fresh build (nothing in a field
    changes while it validates), for a fraction of the cost. Plain fields only (no nested
    serializer, whose own fields a shallow copy would share). Put it before the base class.
    """

    _prebuilt: dict[str, serializers.Field] | None = None  # type: ignore[type-arg]

    @cached_property
    def fields(self) -> BindingDict:
        cls = type(self)
        prototypes = cls.__dict__.get("_prebuilt")
        if prototypes is None:
            prototypes = self.get_fields()  # type: ignore[attr-defined]
            cls._prebuilt = prototypes
        fields = BindingDict(self)  # type: ignore[arg-type]
        for name, field in prototypes.items():
            fields[name] = copy.copy(field)  # BindingDict binds it to this instance
        return fields
