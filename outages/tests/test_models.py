"""The taxonomy loaded by the data migration, and model-level rules."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction

from outages.models import OutageCategory, OutageCause, OutageType, TroubleReport
from outages.tests.factories import InterruptionFactory, OutageFactory, TroubleReportFactory

pytestmark = pytest.mark.django_db


def test_taxonomy_has_four_categories_and_seventeen_types():
    assert OutageCategory.objects.count() == 4
    assert OutageType.objects.count() == 17
    per_category = {
        c.code: c.types.count() for c in OutageCategory.objects.prefetch_related("types")
    }
    assert per_category == {"planned": 4, "temporary": 4, "fault": 5, "other": 4}


def test_notice_rules_follow_the_category():
    for t in OutageType.objects.select_related("category"):
        if t.category.code == "planned":
            assert (t.notice_rule, t.notice_period) == ("all", timedelta(days=7))
        elif t.category.code == "temporary":
            assert (t.notice_rule, t.notice_period) == ("important", timedelta(hours=24))
        else:
            assert (t.notice_rule, t.notice_period) == ("none", None)
        assert t.name
        assert t.name_en


def test_customer_caused_disconnections_stay_out_of_reliability():
    excluded = set(
        OutageType.objects.filter(counts_in_reliability=False).values_list("code", flat=True)
    )
    assert excluded == {
        "planned_customer_request",
        "temporary_customer_request",
        "non_payment",
        "violation_theft",
    }


def test_cause_codes_are_loaded():
    codes = set(OutageCause.objects.values_list("code", flat=True))
    assert {"equipment_failure", "tree_contact", "lightning", "animal", "unknown"} <= codes


def test_one_active_interruption_per_tree():
    first = InterruptionFactory()
    child = OutageFactory(parent=first.outage, root=first.outage, depth=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        InterruptionFactory(outage=child, root=first.outage, service_point=first.service_point)


def test_interruption_cannot_end_before_it_starts():
    row = InterruptionFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        type(row).objects.filter(pk=row.pk).update(ended_at=row.started_at - timedelta(seconds=1))


def test_danger_symptoms():
    assert TroubleReportFactory(symptom="sparks").is_danger
    assert TroubleReportFactory(symptom="wire_down").is_danger
    assert not TroubleReportFactory(symptom="no_power").is_danger


def test_idempotency_key_is_unique_per_client():
    TroubleReportFactory(idempotency_client="user:1", idempotency_key="k1")
    TroubleReportFactory(idempotency_client="user:2", idempotency_key="k1")
    TroubleReportFactory(idempotency_key=None)
    TroubleReportFactory(idempotency_key=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        TroubleReportFactory(idempotency_client="user:1", idempotency_key="k1")
    assert TroubleReport.objects.count() == 4


def test_report_coordinates_come_in_pairs():
    with pytest.raises(IntegrityError), transaction.atomic():
        TroubleReportFactory(lat=22.5, lng=None)
