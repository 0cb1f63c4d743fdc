"""The full scan's SQL reading (prefilter, histories grouped in the database) against the pure
counting module, on random histories."""

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from grids.models import ServicePoint
from grids.tests.factories import DeviceFactory, ServicePointFactory
from outages.models import Interruption, OutageType
from outages.tests.factories import OutageFactory, outage_cause, outage_type
from reliability import frequency, selectors, services
from reliability.models import FrequentOutageAlert, FrequentOutageAlertEvent, FrequentOutagePolicy

pytestmark = pytest.mark.django_db

Alert = FrequentOutageAlert
# Durations (minutes) around the momentary limit and long ones; None is still open.
DURATIONS = [3, 5, 5.01, 6, 45, 240, 900, None]


def _types() -> list[OutageType]:
    not_counted = outage_type("orderly_power_use")
    OutageType.objects.filter(pk=not_counted.pk).update(counts_in_reliability=False)
    return [
        outage_type("fault_transformer"),
        outage_type("fault_transformer"),
        outage_type("planned_maintenance"),
        outage_type("planned_maintenance"),
        outage_type("fault_single_premise"),
        OutageType.objects.get(pk=not_counted.pk),
    ]


def _random_histories(rng: random.Random, sps: list[int], size: int) -> None:
    """About ``size`` interruptions each on ``sps`` over the last 400 days, in bursts (so
    that records merge, chain and overlap), on outages of every kind; every third customer
    copies the history of the one before it (customers of one transformer share theirs)."""
    types = _types()
    customer_side = outage_cause("customer_equipment")
    device = DeviceFactory()
    now = timezone.now()
    rows: list[Interruption] = []
    previous: list[tuple[object, object, object]] = []
    for n, sp in enumerate(sps):
        if n % 3 == 2:
            history = previous
        else:
            history = []
            for _ in range(rng.randrange(0, 2 * size)):
                start = now - timedelta(days=rng.uniform(0, 400))
                for _burst in range(rng.choice([1, 1, 1, 2, 3])):
                    minutes = rng.choice(DURATIONS)
                    end = None if minutes is None else start + timedelta(minutes=minutes)
                    outage = OutageFactory(
                        device=device,
                        type=rng.choice(types),
                        started_at=start,
                        cause=customer_side if rng.random() < 0.15 else None,
                    )
                    history.append((outage, start, end))
                    start += timedelta(hours=rng.choice([1, 5.99, 6, 7, 30]))
        previous = history
        rows += [
            Interruption(outage=o, root=o, service_point_id=sp, started_at=s, ended_at=e)
            for o, s, e in history
        ]
    Interruption.objects.bulk_create(rows)


def _expected(sps: list[int]) -> dict[int, tuple[str, dict[str, int]]]:
    """The pure module's verdict per customer (read one customer at a time by the ORM)."""
    results = selectors.customers_assess(service_point_ids=sps)
    return {sp: (r.level, r.counts) for sp, r in results.items() if r.level != frequency.NORMAL}


def _open_alerts() -> dict[int, tuple[str, dict[str, int]]]:
    rows = Alert.objects.filter(status=Alert.Status.OPEN)
    return {a.service_point_id: (a.level, a.counts) for a in rows}


def _snapshot() -> list[tuple[object, ...]]:
    return sorted(Alert.objects.values_list("pk", "status", "level", "last_changed_at", "counts"))


@pytest.mark.parametrize(
    ("seed", "period", "exclude"),
    [(1, "rolling_365", False), (2, "calendar_year", False), (3, "rolling_365", True)],
)
def test_full_scan_equals_the_counting_rules_on_random_histories(seed, period, exclude):
    # given: random histories and a policy (with the optional exclusions on, for one)
    FrequentOutagePolicy.objects.filter(is_active=True).update(
        period=period, exclude_customer_side=exclude, exclude_single_premise=exclude
    )
    rng = random.Random(seed)
    sps = [sp.pk for sp in ServicePointFactory.create_batch(45)]
    _random_histories(rng, sps, size=4)
    expected = _expected(sps)
    assert expected, "the histories should give some customers a status"
    # when: the full scan runs
    summary = services.frequent_outage_scan_now()
    # then: exactly the customers the pure module calls warning or frequent have an open
    # alert, at that level and with those counts
    assert _open_alerts() == expected
    assert summary["raised"] == len(expected)
    assert summary["assessed"] < len(sps)  # the prefilter skipped some
    # and running it again changes nothing
    before = _snapshot()
    assert services.frequent_outage_scan_now()["raised"] == 0
    assert _snapshot() == before

    # given: the histories change (some records go, others come)
    Interruption.objects.filter(
        pk__in=[pk for pk in Interruption.objects.values_list("pk", flat=True) if pk % 4 == 0]
    ).delete()
    _random_histories(rng, sps[::2], size=2)
    expected = _expected(sps)
    # when: the scan runs again
    services.frequent_outage_scan_now()
    # then: the alerts follow (raised, changed, closed) and a second run changes nothing
    assert _open_alerts() == expected
    before = _snapshot()
    again = services.frequent_outage_scan_now()
    assert (again["raised"], again["changed"], again["closed"]) == (0, 0, 0)
    assert _snapshot() == before


def test_scan_reads_each_distinct_history_once_and_skips_only_normal_customers():
    # given: random histories where every third customer shares the one before it
    rng = random.Random(5)
    sps = [sp.pk for sp in ServicePointFactory.create_batch(30)]
    _random_histories(rng, sps, size=3)
    policy = selectors.policy_get().as_policy()
    as_of = timezone.localdate()
    # when
    groups = list(selectors.scan_results(as_of=as_of, policy=policy))
    # then: every customer appears once, customers sharing a history share a result, and
    # each customer left out is normal by the pure module
    scanned = [sp for _result, ids in groups for sp in ids]
    assert len(scanned) == len(set(scanned))
    assert any(len(ids) > 1 for _result, ids in groups)
    reference = selectors.customers_assess(service_point_ids=sps, as_of=as_of, policy=policy)
    for result, ids in groups:
        for sp in ids:
            assert (result.level, result.counts) == (reference[sp].level, reference[sp].counts)
    for sp in set(sps) - set(scanned):
        assert reference[sp].level == frequency.NORMAL
    assert ServicePoint.objects.filter(pk__in=scanned).count() == len(scanned)


def test_alerts_without_a_digest_get_one_and_nothing_else_changes():
    # given: alerts raised by a scan, then their digests lost (rows written before it existed)
    rng = random.Random(8)
    sps = [sp.pk for sp in ServicePointFactory.create_batch(30)]
    _random_histories(rng, sps, size=4)
    services.frequent_outage_scan_now()
    digests = dict(Alert.objects.values_list("pk", "content_digest"))
    assert digests
    assert all(digests.values())
    before = _snapshot()
    events = FrequentOutageAlertEvent.objects.count()
    Alert.objects.update(content_digest="")
    # when: the scan runs
    summary = services.frequent_outage_scan_now()
    # then: the digests are back, and no alert was raised, changed or closed
    assert (summary["raised"], summary["changed"], summary["closed"]) == (0, 0, 0)
    assert dict(Alert.objects.values_list("pk", "content_digest")) == digests
    assert _snapshot() == before
    assert FrequentOutageAlertEvent.objects.count() == events
