"""The stored daily figures from real rows (orders, reports, calls, an outage), read back
through the selectors for a period and scope, compared with the period before."""

import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from dashboard import exports, selectors, services, tables
from dashboard.models import DailyFigure
from dashboard.periods import Kind, period_containing
from dashboard.selectors import Scope
from dashboard.tests.conftest import DAY, PREVIOUS_DAY, at

pytestmark = pytest.mark.django_db

JUNE = period_containing(Kind.MONTH, DAY)


@pytest.fixture
def computed(history):
    services.dashboard_compute_days(
        first=PREVIOUS_DAY, last=DAY + timedelta(days=1), now=at(DAY, 23)
    )
    return history


def test_summary_of_the_month_and_the_month_before(computed):
    summary = selectors.dashboard_summary(period=JUNE, scope=Scope())
    assert summary["orders"].current == 3
    assert summary["orders"].previous == 1
    # arrival: (30 + 50 + 60) / 3 = 46.7 min against 80 in May: about 42 % faster
    assert summary["arrive_minutes"].current == pytest.approx(46.7)
    assert summary["arrive_minutes"].previous == 80.0
    assert summary["arrive_minutes"].change == pytest.approx(-41.6, abs=0.1)
    assert summary["arrive_minutes"].verdict == "better"
    assert summary["arrive_sla"].current == pytest.approx(33.3)  # only the 30-min arrival
    assert summary["restore_sla"].current == pytest.approx(66.7)
    assert summary["cross_grid_share"].current == pytest.approx(33.3)
    assert summary["reports"].current == 4
    assert summary["self_service_share"].current == 50.0
    assert summary["first_call_resolution"].current == pytest.approx(66.7)
    assert summary["handling_seconds"].current == 120.0
    assert summary["outages"].current == 1
    assert summary["customer_minutes"].current == 3 * 90  # T1 has 3 customers


def test_grid_filter_and_drill_down(computed):
    h = computed
    by_district = selectors.dashboard_by_scope(period=JUNE, scope=Scope(), keys=("orders",))
    assert by_district == {h.district.pk: {"orders": 3}}
    by_grid = selectors.dashboard_by_scope(
        period=JUNE, scope=Scope(district_id=h.district.pk), keys=("orders", "arrive_minutes")
    )
    assert by_grid[h.grid_a.pk] == {"orders": 2, "arrive_minutes": 40.0}
    assert by_grid[h.grid_b.pk]["orders"] == 1
    by_crew = selectors.dashboard_by_scope(
        period=JUNE, scope=Scope(h.district.pk, h.grid_b.pk), keys=("orders",)
    )
    assert by_crew == {h.crew_a.pk: {"orders": 1}}
    grid_a = selectors.dashboard_summary(period=JUNE, scope=Scope(h.district.pk, h.grid_a.pk))
    assert grid_a["orders"].current == 2


def test_computing_twice_stores_the_same_rows(computed):
    before = sorted(DailyFigure.objects.values_list("day", "figure", "total", "count"))
    services.dashboard_compute_days(first=PREVIOUS_DAY, last=DAY + timedelta(days=1))
    after = sorted(DailyFigure.objects.values_list("day", "figure", "total", "count"))
    assert before == after


def test_trend_lists_every_day(computed):
    trend = selectors.dashboard_trend(period=JUNE, scope=Scope(), keys=("orders",))
    assert len(trend) == 30
    assert dict(trend)[DAY]["orders"] == 3
    assert dict(trend)[DAY + timedelta(days=1)]["orders"] is None


def test_xlsx_export_has_chinese_headers_and_real_cells(computed):
    h = computed
    ctx = tables.build_context(period=JUNE, scope=Scope(district_id=h.district.pk))
    table = tables.BUILDERS["drill"](ctx)
    wb = load_workbook(io.BytesIO(exports.table_xlsx(table)))
    rows = list(wb.active.iter_rows(values_only=True))
    assert rows[0][0] == "网格"
    assert rows[0][1] == "抢修工单数（张）"
    by_name = {r[0]: r for r in rows[1:]}
    assert by_name["网格甲"] == ("网格甲", 2, 40.0, 150.0, 50.0, 50.0)
    assert by_name["网格乙"][1] == 1
    trend = tables.BUILDERS["trend"](ctx)
    sheet = load_workbook(io.BytesIO(exports.table_xlsx(trend))).active
    assert sheet["A2"].is_date
    assert sheet["A2"].value.date() == JUNE.start


def test_csv_export_starts_with_a_bom(computed):
    ctx = tables.build_context(period=JUNE, scope=Scope())
    text = exports.table_csv(tables.BUILDERS["reports"](ctx)).decode("utf-8")
    assert text.startswith("\ufeff渠道,")
    assert "95598热线,2" in text
