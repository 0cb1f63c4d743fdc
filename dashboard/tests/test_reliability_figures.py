"""The dashboard's reliability indices, frequent-outage counts, outage types, SLA by
priority and station and the pool by area, on hand-built history (values worked out by hand),
and the reliability table's CSV and Excel downloads."""

import io
from datetime import date, timedelta

import pytest
from django.utils import timezone, translation
from openpyxl import load_workbook

from dashboard import indices as DI
from dashboard import services, tables
from dashboard.periods import Kind, period_containing
from dashboard.selectors import Scope
from dashboard.tests.conftest import DAY, PREVIOUS_DAY, at
from grids.models import ServicePoint
from outages.models import Interruption, OutageType
from reliability import services as reliability_services
from reliability.models import FrequentOutageAlert
from reliability.selectors_dashboard import dashboard_frequent_counts

pytestmark = pytest.mark.django_db

JUNE = period_containing(Kind.MONTH, DAY)


# --- pure: the indices from totals --------------------------------------------------------


def test_area_indices_by_hand():
    # given: 100 customers; 20 sustained customer interruptions totalling 1,800 customer
    # minutes and 5 momentary ones, over a 30-day month (720 hours)
    totals = {
        "customer_interruptions": 20,
        "customer_minutes": 1800.0,
        "momentary_interruptions": 5,
        "customers_served": 100,
    }
    got = DI.area_indices(totals, hours=720)
    # then: SAIFI 20/100, SAIDI 1800/100, CAIDI 18/0.2, MAIFI 5/100,
    # ASAI 1 - (1800/60) / (100 x 720) = 1 - 30/72000 = 99.958333 %
    assert got.SAIFI == 0.2
    assert got.SAIDI == 18.0
    assert got.CAIDI == 90.0
    assert got.MAIFI == 0.05
    assert got.ASAI == 99.9583
    assert got.values() == [0.2, 18.0, 90.0, 0.05, 99.9583]


def test_area_without_interruptions_is_fully_available():
    got = DI.area_indices(None, hours=24)
    assert got.values() == [0.0, 0.0, None, 0.0, 100.0]
    # a period not begun yet has no hours: no availability to show
    assert DI.area_indices(None, hours=0).ASAI is None


def test_frequent_rows_list_both_levels_and_the_total():
    rows = DI.frequent_rows({"frequent": {"new": 2, "open": 5}})
    assert rows == [("预警", 0, 0), ("频繁停电", 2, 5), ("合计", 2, 5)]


# --- on stored history ----------------------------------------------------------------------


@pytest.fixture
def computed(history):
    # The taxonomy and complaint categories as their data migrations load them (a
    # transactional test elsewhere may have flushed them from a reused database).
    from importlib import import_module

    from django.apps import apps

    for module in (
        "outages.migrations.0002_load_outage_taxonomy",
        "complaints.migrations.0002_default_categories_and_calendar",
    ):
        import_module(module).load(apps, None)
    services.dashboard_compute_days(
        first=PREVIOUS_DAY, last=DAY + timedelta(days=1), now=at(DAY, 23)
    )
    reliability_services.reliability_days_compute(days=[PREVIOUS_DAY, DAY])
    return history


def test_reliability_table_of_the_city(computed):
    # given: one outage on June 10, restored after 90 minutes, interrupting k customers of N
    served = ServicePoint.objects.count()
    hit = Interruption.objects.filter(started_at__date=DAY).count()
    assert (served, hit) == (11, 3)
    table = tables.BUILDERS["reliability"](tables.build_context(period=JUNE, scope=Scope()))
    assert [c.label for c in table.columns][:3] == [
        "区域",
        "SAIFI（次/户）",
        "SAIDI（分钟/户）",
    ]
    # then: SAIFI 3/11 = 0.2727, SAIDI 3 x 90 / 11 = 24.5454 min, CAIDI 90 min, no
    # momentary, ASAI 1 - (3 x 1.5 h) / (11 x 720 h) = 1 - 4.5/7920 = 99.943182 %
    assert table.rows[0] == ["全市", 0.2727, 24.55, 90.0, 0.0, 99.9432]
    # the month before (May: no interruption)
    assert table.rows[1] == ["全市（上期）", 0.0, 0.0, None, 0.0, 100.0]
    # each district listed; the outage's customers are all in one district
    rows = table.rows[2:]
    assert len(rows) == len(tables.build_context(period=JUNE, scope=Scope()).scopes.districts)
    hit_rows = [r for r in rows if r[1]]
    assert len(hit_rows) == 1
    assert hit_rows[0][3] == 90.0


def test_reliability_table_downloads(computed, client, supervisor):
    client.force_login(supervisor)
    # CSV: UTF-8 with a BOM, Chinese headers, the same rows as the page
    csv = client.get(f"/dashboard/export.csv?table=reliability&day={DAY}")
    assert csv.status_code == 200
    text = csv.content.decode("utf-8-sig").splitlines()
    assert text[0].startswith("区域,SAIFI（次/户）,SAIDI（分钟/户）")
    assert text[1] == "全市,0.2727,24.55,90.0,0.0,99.9432"
    # Excel: number cells with the index's decimals
    xlsx = client.get(f"/dashboard/export.xlsx?table=reliability&day={DAY}")
    ws = load_workbook(io.BytesIO(xlsx.content)).active
    assert [c.value for c in ws[2]] == ["全市", 0.2727, 24.55, 90.0, 0.0, 99.9432]
    assert ws["B2"].number_format == "0.0000"
    assert ws["C2"].number_format == "0.00"
    assert ws["C3"].value == 0.0  # the month before: a number, not text


def _alert(sp, level, raised, *, closed=False):
    now = timezone.now()
    return FrequentOutageAlert.objects.create(
        service_point=sp,
        level=level,
        status="closed" if closed else "open",
        period_start=date(2026, 1, 1),
        as_of=raised.date(),
        first_raised_at=raised,
        last_changed_at=raised,
        closed_at=now if closed else None,
    )


def test_frequent_outage_counts(history):
    # given: in June a warning (still open) and a frequent alert (closed since); a frequent
    # alert raised in May and still open; a warning of another district's customer
    sp1, sp2, sp3 = ServicePoint.objects.order_by("pk")[:3]
    _alert(sp1, "warning", at(DAY, 9))
    _alert(sp2, "frequent", at(DAY, 10), closed=True)
    _alert(sp3, "frequent", at(PREVIOUS_DAY, 10))
    table = tables.BUILDERS["frequent"](tables.build_context(period=JUNE, scope=Scope()))
    # then: new in June 1 warning + 1 frequent; open now 1 warning + 1 frequent
    assert table.rows == [["预警", 1, 1], ["频繁停电", 1, 1], ["合计", 2, 2]]
    # and an area filter counts only its customers
    start, end = at(date(2026, 6, 1), 0), at(date(2026, 7, 1), 0)
    other = dashboard_frequent_counts(
        start=start, end=end, district_id=(sp1.district_id or 0) + 10_000
    )
    assert other == {"warning": {"new": 0, "open": 0}, "frequent": {"new": 0, "open": 0}}


def test_outage_types_list_all_17_with_zeros(computed):
    table = tables.BUILDERS["outage_types"](tables.build_context(period=JUNE, scope=Scope()))
    assert len(table.rows) == OutageType.objects.count() == 17
    counts = dict(table.rows)
    assert counts[OutageType.objects.get(code="fault_transformer").name] == 1
    assert sum(counts.values()) == 1
    assert table.columns[1].label == "停电事件数（起）"


def test_categories_listed_with_zero(computed):
    ctx = tables.build_context(period=JUNE, scope=Scope())
    outages = dict(tables.BUILDERS["outages"](ctx).rows)
    assert len(outages) == 4
    assert sorted(outages.values()) == [0, 0, 0, 1]
    channels = dict(tables.BUILDERS["reports"](ctx).rows)
    assert channels == {"95598热线": 2, "网站": 1, "手机应用": 0, "微信": 1}
    complaints = tables.BUILDERS["complaints"](ctx)
    assert complaints.rows
    assert all(n == 0 for _name, n in complaints.rows)


def test_sla_by_priority_and_station(computed):
    # given: the June orders are of normal priority, all by crew A: arrivals 30, 50, 60
    # against 45 min (1 of 3 on time), restorations 100, 200, 120 against 180 (2 of 3)
    ctx = tables.build_context(period=JUNE, scope=Scope())
    priority = {r[0]: r[1:] for r in tables.BUILDERS["sla_priority"](ctx).rows}
    assert priority == {
        "紧急": [None, None],
        "高": [None, None],
        "普通": [33.3, 66.7],
        "低": [None, None],
    }
    station = tables.BUILDERS["sla_station"](ctx)
    assert station.title == "到达及时率最低的 15 个服务站"
    assert station.rows == [[computed.crew_a.station.name, 33.3, 66.7]]


def test_sla_by_station_ranks_the_lowest_first_and_keeps_15(monkeypatch):
    ctx = tables.Context(
        period=JUNE, scope=Scope(), scopes=tables.Scopes(districts={}, grids={}, crews={})
    )
    data = {f"{key}_station": {str(n): float(n) for n in range(1, 21)} for key in tables.SLA_KEYS}
    monkeypatch.setattr(
        tables.selectors, "dashboard_by_dimension", lambda *, period, scope, key: data[key]
    )
    monkeypatch.setattr(
        tables.grid_reads, "station_names", lambda: {n: f"站{n:02d}" for n in range(1, 21)}
    )
    rows = tables.BUILDERS["sla_station"](ctx).rows
    assert [r[0] for r in rows] == [f"站{n:02d}" for n in range(1, 16)]


def test_pool_by_area(computed):
    ctx = tables.build_context(period=JUNE, scope=Scope())
    table = tables.BUILDERS["pool"](ctx)
    assert table.rows == [[computed.district.name, None, None, 0]] or all(
        r[3] == 0 for r in table.rows
    )
    grid = tables.BUILDERS["pool"](
        tables.build_context(
            period=JUNE, scope=Scope(district_id=computed.district.pk, grid_id=computed.grid_a.pk)
        )
    )
    assert grid.rows == [["网格甲", None, None, 0]]


def test_names_follow_the_language(computed):
    computed.district.name_en = "Futian"
    computed.district.save()
    with translation.override("en"):
        ctx = tables.build_context(period=JUNE, scope=Scope())
        types = tables.BUILDERS["outage_types"](ctx)
        reliability = tables.BUILDERS["reliability"](ctx)
    en = OutageType.objects.get(code="fault_transformer").name_en
    assert en
    assert [en, 1] in types.rows
    assert reliability.rows[0][0] == "City"
    assert "Futian" in [r[0] for r in reliability.rows]
    assert reliability.columns[1].label == "SAIFI (per customer)"


def test_summary_lists_every_figure_with_its_definition(computed):
    from dashboard import figures as F

    table = tables.BUILDERS["summary"](tables.build_context(period=JUNE, scope=Scope()))
    shown = [f for f in F.FIGURES if not f.split_of]
    assert [r[0] for r in table.rows] == [str(f.label) for f in shown]
    assert [title for _row, title in table.titled_rows] == [str(f.definition) for f in shown]
    # the name and unit are text cells, the values number cells
    assert [n for _v, n in table.titled_rows[0][0]] == [False, False, True, True, True]
    by_label = {r[0]: r[1:] for r in table.rows}
    # units as a report writes them, and the month against May
    assert by_label["抢修工单数"] == ["张", 3, 1, 200.0]
    assert by_label["停电事件数"][:2] == ["起", 1]
    assert by_label["投诉数"][:2] == ["件", 0]
    assert by_label["停电用户数"][0] == "户"


def test_page_shows_definitions_on_hover(computed, client, supervisor):
    client.force_login(supervisor)
    html = client.get(f"/dashboard/?period=month&day={DAY}").content.decode()
    # a column header of a table, a row of the summary, an index of the reliability table
    assert 'title="从工单创建到班组到达现场的平均时长' in html
    assert '<td title="期间内创建的抢修类工单数。' in html
    assert 'title="系统平均停电频率 SAIFI：持续停电用户次数之和除以服务用户总数' in html
    for key in ("reliability", "frequent", "outage_types", "sla_priority", "sla_station", "pool"):
        assert f'id="table-{key}"' in html
