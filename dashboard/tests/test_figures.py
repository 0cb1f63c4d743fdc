"""Each figure's value on hand-built history, through the pure modules (no database): the
records → daily cells → combined value path that the service and the page take."""

from collections import defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dashboard import aggregate as A
from dashboard import figures as F
from dashboard.periods import Kind, period_before, period_containing, period_days

TZ = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 6, 10)
T0 = datetime(2026, 6, 10, 9, 0, tzinfo=TZ)
NOW = datetime(2026, 6, 20, 12, 0, tzinfo=TZ)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def values(cells: A.Cells, *, crew_id=None, dimension=None) -> dict[str, float | None]:
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    level = A.CREW if crew_id is not None else A.CITY
    for key, (total, count) in cells.as_dict().items():
        if key.level != level:
            continue
        if crew_id is not None and key.crew_id != crew_id:
            continue
        if dimension is not None and key.dimension != dimension:
            continue
        sums[key.figure][0] += total
        sums[key.figure][1] += count
    return {k: F.figure_value(F.BY_KEY[k], *v) for k, v in sums.items()}


def order(n: int, **kw) -> A.OrderRecord:
    base = {
        "id": n,
        "created_at": T0,
        "district_id": 1,
        "grid_id": 10,
        "crew_id": None,
        "crew_grid_id": None,
        "status": "created",
    }
    base.update(kw)
    return A.OrderRecord(**base)


@pytest.fixture
def order_cells() -> A.Cells:
    # given: three orders of grid 10 on one day
    # 1: crew 100 (grid 10) dispatched at +10, accepted +12, arrived +40 (due +45), restored
    #    +100 (due +180), completed +120; two dispatch decisions, one pre-emption.
    # 2: crew 200 (grid 20: cross-grid), pooled at +2 and claimed at +8, arrived +60 (due +45,
    #    late), restored +200 (due +180, late), completed +220.
    # 3: merged as a duplicate, pooled at +1, never claimed, dispatched directly at +6; its
    #    arrival is due at +45 and now is long after: late.
    cells = A.Cells()
    orders = [
        order(
            1,
            crew_id=100,
            crew_grid_id=10,
            status="closed",
            dispatched_at=T0 + minutes(10),
            accepted_at=T0 + minutes(12),
            arrived_at=T0 + minutes(40),
            arrive_due_at=T0 + minutes(45),
            restored_at=T0 + minutes(100),
            restore_due_at=T0 + minutes(180),
            completed_at=T0 + minutes(120),
            decisions=2,
            preemptions=1,
        ),
        order(
            2,
            crew_id=200,
            crew_grid_id=20,
            status="completed",
            published_at=T0 + minutes(2),
            claimed_at=T0 + minutes(8),
            arrived_at=T0 + minutes(60),
            arrive_due_at=T0 + minutes(45),
            restored_at=T0 + minutes(200),
            restore_due_at=T0 + minutes(180),
            completed_at=T0 + minutes(220),
            decisions=1,
        ),
        order(
            3,
            status="merged",
            published_at=T0 + minutes(1),
            dispatched_at=T0 + minutes(6),
            arrive_due_at=T0 + minutes(45),
        ),
    ]
    A.add_orders(cells, orders, TZ, NOW)
    return cells


def test_repair_figures(order_cells):
    v = values(order_cells)
    assert v["orders"] == 3
    # dispatch: order 1 at 10 min, order 2 claimed at 8, order 3 dispatched at 6 → 8.0
    assert v["dispatch_minutes"] == 8.0
    assert v["accept_minutes"] == 2.0
    assert v["arrive_minutes"] == 50.0  # (40 + 60) / 2
    assert v["restore_minutes"] == 150.0  # (100 + 200) / 2
    assert v["complete_minutes"] == 170.0
    assert v["arrive_sla"] == pytest.approx(33.3)  # 1 of 3 (order 3 overdue, not arrived)
    assert v["restore_sla"] == 50.0
    assert v["redispatches"] == 1
    assert v["preemptions"] == 1
    assert v["cross_grid_share"] == 50.0
    assert v["duplicate_dispatch"] == pytest.approx(33.3)


def test_pool_figures(order_cells):
    v = values(order_cells)
    assert v["pool_claim_share"] == 50.0
    assert v["pool_claim_minutes"] == 6.0
    assert v["pool_expired"] == 1


def test_orders_per_crew(order_cells):
    assert values(order_cells, crew_id=100)["orders"] == 1
    assert values(order_cells, crew_id=200)["arrive_minutes"] == 60.0


def test_open_order_not_yet_due_is_not_counted_in_sla():
    cells = A.Cells()
    A.add_orders(cells, [order(1, arrive_due_at=NOW + minutes(30))], TZ, NOW)
    assert "arrive_sla" not in values(cells)


def test_call_figures():
    # given: caller A calls about outage 7 at 09:00 and again at 20:00 (within 24 h), caller B
    # once about outage 7, caller C about outage 8 at 23:00 and again next day 10:00 (a later
    # call outside the computed day), and an enquiry without an outage.
    def call(n, phone, outage, at, secs=None, agent=1):
        return A.CallRecord(n, at, agent, phone, outage, secs, 1, 10)

    calls = [
        call(1, "A", 7, T0, 100),
        call(2, "A", 7, T0 + timedelta(hours=11), 200, agent=2),
        call(3, "B", 7, T0 + minutes(5), 60),
        call(4, "C", 8, T0 + timedelta(hours=14)),
        call(5, "D", None, T0 + minutes(30), 40),
    ]
    later = [call(6, "C", 8, T0 + timedelta(hours=25))]
    cells = A.Cells()
    A.add_calls(cells, calls, TZ, later)
    v = values(cells)
    # first-call resolution: 1 (repeated), 2 (resolved), 3 (resolved), 4 (repeated) → 50 %
    assert v["first_call_resolution"] == 50.0
    assert v["handling_seconds"] == 100.0  # (100 + 200 + 60 + 40) / 4
    assert values(cells, dimension="2")["handling_seconds"] == 200.0


def test_report_figures():
    def report(channel, status="pending"):
        return A.ReportRecord(T0, 1, 10, channel, status)

    reports = [
        report("hotline"),
        report("hotline", "merged"),
        report("web"),
        report("wechat", "merged"),
        report("scada"),
    ]
    cells = A.Cells()
    A.add_reports(cells, reports, TZ)
    v = values(cells)
    assert v["reports"] == 4  # SCADA signals are not customer reports
    assert v["self_service_share"] == 50.0
    assert v["merged_reports"] == 2
    assert values(cells, dimension="hotline")["reports"] == 2


def test_outage_and_complaint_figures():
    outages = [
        A.OutageRecord(T0, T0 + minutes(90), T0 + minutes(120), 1, 10, "fault", 100),
        A.OutageRecord(T0, T0 + minutes(30), T0 + minutes(20), 1, 10, "fault", 10),
        A.OutageRecord(T0, None, None, 1, 10, "planned", 50),
    ]
    complaints = [A.ComplaintRecord(T0, 1, 10, "outage"), A.ComplaintRecord(T0, 1, 10, "service")]
    cells = A.Cells()
    A.add_outages(cells, outages, TZ)
    A.add_complaints(cells, complaints, TZ)
    v = values(cells)
    assert v["outages"] == 3
    assert values(cells, dimension="fault")["outages"] == 2
    assert v["customers_affected"] == 160
    assert v["customer_minutes"] == 100 * 90 + 10 * 30
    assert v["etr_accuracy"] == 50.0
    assert v["complaints"] == 2


def test_cells_at_every_level_add_up():
    cells = A.Cells()
    cells.add("orders", DAY, 1, 10, 1, crew_id=100)
    cells.add("orders", DAY, 1, 11, 1, crew_id=101)
    cells.add("reports", DAY, None, None, 1)  # not located: only the city counts it
    by_level: dict = defaultdict(float)
    for key, (total, _count) in cells.as_dict().items():
        by_level[(key.level, key.figure)] += total
    assert by_level[(A.CITY, "orders")] == by_level[(A.DISTRICT, "orders")] == 2
    assert by_level[(A.GRID, "orders")] == by_level[(A.CREW, "orders")] == 2
    assert by_level[(A.CITY, "reports")] == 1
    assert (A.CREW, "reports") not in by_level


def test_records_land_on_their_local_day():
    late = datetime(2026, 6, 10, 23, 30, tzinfo=TZ)  # 15:30 UTC: still the 10th locally
    cells = A.Cells()
    A.add_complaints(cells, [A.ComplaintRecord(late.astimezone(ZoneInfo("UTC")), 1, 10, "x")], TZ)
    assert {k.day for k in cells.as_dict()} == {DAY}


def test_every_figure_has_a_definition():
    for fig in F.FIGURES:
        assert str(fig.definition).strip()
        assert fig.key in F.BY_KEY


def test_change_and_verdict():
    arrive = F.BY_KEY["arrive_minutes"]
    assert F.change_percent(45.0, 50.0) == -10.0
    assert F.verdict(arrive, -10.0) == "better"
    assert F.verdict(F.BY_KEY["arrive_sla"], -10.0) == "worse"
    assert F.change_percent(1.0, 0.0) is None


def test_periods():
    week = period_containing(Kind.WEEK, date(2026, 6, 10))  # a Wednesday
    assert (week.start, week.end) == (date(2026, 6, 8), date(2026, 6, 14))
    month = period_containing(Kind.MONTH, date(2026, 3, 31))
    assert period_before(month).start == date(2026, 2, 1)
    assert period_before(month).end == date(2026, 2, 28)
    assert len(period_days(period_containing(Kind.YEAR, DAY))) == 365
