"""The per-call shortcuts: ``insert_row`` and ``PrebuiltFieldsMixin``."""

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.db.models import signals
from rest_framework import serializers

from dispatch_center.core.inserts import insert_row
from dispatch_center.core.serializers import PrebuiltFieldsMixin


@pytest.mark.django_db
def test_insert_row_writes_the_row_and_sets_the_key():
    group = Group(name="intake-a")
    insert_row(group)
    assert group.pk is not None
    assert not group._state.adding
    assert Group.objects.get(pk=group.pk).name == "intake-a"


@pytest.mark.django_db
def test_insert_row_raises_the_constraint_error():
    Group.objects.create(name="intake-b")
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_row(Group(name="intake-b"))
    assert Group.objects.filter(name="intake-b").count() == 1


@pytest.mark.django_db
def test_insert_row_goes_through_save_when_a_receiver_listens():
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance.name)

    signals.post_save.connect(receiver, sender=Group)
    try:
        insert_row(Group(name="intake-c"))
    finally:
        signals.post_save.disconnect(receiver, sender=Group)
    assert seen == ["intake-c"]


class _Plain(serializers.Serializer):
    code = serializers.CharField(max_length=3)
    kind = serializers.ChoiceField(choices=[("a", "A"), ("b", "B")])
    count = serializers.IntegerField(min_value=1, required=False)

    def validate_code(self, value):
        if value == "bad":
            raise serializers.ValidationError("no")
        return value


class _Prebuilt(PrebuiltFieldsMixin, _Plain):
    pass


@pytest.mark.parametrize(
    "data",
    [
        {"code": "abcd", "kind": "c", "count": 0},
        {"code": "bad", "kind": "a"},
        {"kind": "a"},
        {"code": "ok", "kind": "b", "count": "x"},
    ],
)
def test_prebuilt_fields_validate_as_the_plain_serializer(data):
    plain, prebuilt = _Plain(data=data), _Prebuilt(data=data)
    assert plain.is_valid() is prebuilt.is_valid() is False
    assert prebuilt.errors == plain.errors


def test_prebuilt_fields_are_bound_to_each_instance_and_keep_no_state():
    # Given a refused body, then an accepted one, through the same class
    first = _Prebuilt(data={"code": "abcd", "kind": "c"})
    assert not first.is_valid()
    second = _Prebuilt(data={"code": "ok", "kind": "a", "count": 2})
    assert second.is_valid(), second.errors
    assert second.validated_data == {"code": "ok", "kind": "a", "count": 2}
    # Each instance has its own field objects, bound to it; the class keeps unbound ones
    assert first.fields["code"] is not second.fields["code"]
    assert second.fields["code"].parent is second
    assert first.fields["code"].parent is first
    assert getattr(_Prebuilt._prebuilt["code"], "parent", None) is None
