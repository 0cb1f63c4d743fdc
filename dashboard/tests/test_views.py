"""The dashboard's pages and downloads: who may open them, what they show."""

import io

import pytest
from openpyxl import load_workbook

from dashboard import services
from dashboard.tests.conftest import DAY, PREVIOUS_DAY

pytestmark = pytest.mark.django_db


@pytest.fixture
def computed(history):
    services.dashboard_compute_days(first=PREVIOUS_DAY, last=DAY)
    return history


@pytest.mark.parametrize("path", ["/dashboard/", "/dashboard/dictionary/", "/dashboard/report/"])
def test_only_supervisors_and_admins(client, path, outsider, dispatcher, hotline_agent):
    assert client.get(path).status_code == 302  # to the login page
    for user in (outsider, dispatcher, hotline_agent):
        client.force_login(user)
        assert client.get(path).status_code == 403


def test_admin_may_open_it(client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", password="x-pass-123")
    client.force_login(admin)
    assert client.get("/dashboard/").status_code == 200


def test_dashboard_shows_figures_with_definitions(client, supervisor, computed):
    client.force_login(supervisor)
    page = client.get(f"/dashboard/?period=month&day={DAY}&district={computed.district.pk}")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="kpi-arrive_minutes"' in html
    assert "从工单创建到班组到达现场的平均时长" in html  # the definition on hover
    assert "46.7" in html  # arrival minutes in June
    assert f"grid={computed.grid_a.pk}" in html  # the drill-down link to grid A
    assert "dashboard-tables" in html


def test_drill_into_a_grid_lists_its_crews(client, supervisor, computed):
    client.force_login(supervisor)
    html = client.get(f"/dashboard/?day={DAY}&grid={computed.grid_b.pk}").content.decode()
    assert "按班组" in html
    assert computed.crew_a.name in html


def test_exports(client, supervisor, computed):
    client.force_login(supervisor)
    response = client.get(f"/dashboard/export.xlsx?table=reports&day={DAY}")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0] == ("渠道", "报修数（件）")
    assert ("95598热线", 2) in rows
    csv = client.get(f"/dashboard/export.csv?table=summary&day={DAY}").content.decode()
    assert "抢修工单数" in csv
    assert client.get("/dashboard/export.xlsx?table=nope").status_code == 404
    assert client.get("/dashboard/export.pdf?table=summary").status_code == 404


def test_dictionary_lists_every_figure(client, supervisor):
    from dashboard.figures import FIGURES
    from dashboard.indices import INDEXES

    client.force_login(supervisor)
    html = client.get("/dashboard/dictionary/").content.decode()
    for fig in FIGURES:
        # a split (by priority, station, type) shares the definition of the figure it splits
        assert (f'id="def-{fig.key}"' in html) is not bool(fig.split_of)
    for index in INDEXES:
        assert f'id="def-{index.key}"' in html
    assert 'id="def-frequent"' in html
    assert "持续停电用户次数之和除以服务用户总数" in html


def test_monthly_report(client, supervisor, computed):
    client.force_login(supervisor)
    html = client.get(f"/dashboard/report/?day={DAY}").content.decode()
    assert "2026-06" in html
    assert "主要指标与上期对比" in html


def test_manual_award_from_the_page(client, supervisor, computed):
    from dashboard.models import PointAward, PointItem

    client.force_login(supervisor)
    item = PointItem.objects.get(code="complaint_avoided")
    response = client.post(
        "/dashboard/points/award/",
        {"agent": computed.agent.pk, "item": item.pk, "reason": "耐心解释，客户撤回投诉"},
    )
    assert response.status_code == 302
    award = PointAward.objects.get()
    assert (award.points, award.awarded_by) == (5, supervisor)
