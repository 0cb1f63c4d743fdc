"""Serializers shared by every app's API: the contract's error body and small references."""

from rest_framework import serializers


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
