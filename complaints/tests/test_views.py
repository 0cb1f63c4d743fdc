"""The complaint desk pages: roles, list, detail, actions, bulletin."""

from datetime import timedelta

import pytest
from django.utils import timezone

from complaints.models import Complaint, ProcessDefect, RemedyContact
from complaints.tests.factories import make_complaint
from complaints.tests.helpers import past_outage

pytestmark = pytest.mark.django_db


def test_roles(client, outsider, hotline_agent, sp):
    c = make_complaint(sp)
    assert client.get("/complaints/").status_code == 302  # to the login
    client.force_login(outsider)
    assert client.get("/complaints/").status_code == 403
    assert client.get(f"/complaints/{c.pk}/").status_code == 403
    client.force_login(hotline_agent)
    assert client.get("/complaints/").status_code == 200
    # An agent reads but does not investigate
    resp = client.post(f"/complaints/{c.pk}/action", {"action": "transition", "to": "contacted"})
    assert resp.status_code == 403
    assert Complaint.objects.get(pk=c.pk).status == "registered"


def test_desk_lists_and_registers_public_opinion(
    client, dispatcher, sp, django_assert_max_num_queries
):
    make_complaint(sp)
    make_complaint(sp)
    client.force_login(dispatcher)
    with django_assert_max_num_queries(15):
        resp = client.get("/complaints/")
    assert resp.content.decode().count('<tr data-id="') == 2
    resp = client.post(
        "/complaints/",
        {
            "area": "福田区某小区",
            "category": "outage_frequent",
            "channel": "public_opinion",
            "text": "网帖：小区一周停电三次",
        },
    )
    c = Complaint.objects.get(area="福田区某小区")
    assert resp.status_code == 302
    assert resp["Location"] == f"/complaints/{c.pk}/"
    assert c.flags.filter(code="public_opinion").exists()


def test_desk_form_names_the_unknown_account(client, dispatcher):
    client.force_login(dispatcher)
    resp = client.post(
        "/complaints/",
        {"account_no": "000", "category": "outage_long", "channel": "staff", "text": "x"},
    )
    assert resp.status_code == 200
    assert "户号不存在" in resp.content.decode()


def test_full_investigation_from_the_page(client, supervisor, network, sp):
    past_outage(network, "S1", started_ago=timedelta(days=1), lasted=timedelta(hours=6))
    c = make_complaint(sp)
    client.force_login(supervisor)
    page = client.get(f"/complaints/{c.pk}/?radius=3")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="trace-suggested"' in html
    assert "similar-list" in html
    url = f"/complaints/{c.pk}/action"

    def act(**data):
        resp = client.post(url, data)
        assert resp.status_code == 302
        return Complaint.objects.get(pk=c.pk)

    assert act(action="transition", to="contacted").status == "contacted"
    assert act(action="transition", to="investigating").status == "investigating"
    act(action="remedy_list", radius="3")
    contact = RemedyContact.objects.filter(complaint=c).first()
    assert contact is not None
    act(action="remedy_outcome", contact=str(contact.pk), outcome="satisfied", note="已安抚")
    act(action="defect", step="information", description="ETR 未及时更新", owner="调度班")
    defect = ProcessDefect.objects.get(complaint=c)
    act(action="defect_update", defect=str(defect.pk), status="done", improvement="每小时更新ETR")
    act(action="transition", to="replied", reply="已说明停电原因并致歉")
    # Closing without trace and accountability is refused with a message
    assert act(action="transition", to="closed").status == "replied"
    act(action="trace", step="restoration", finding="复电慢")
    act(
        action="accountability",
        nature="individual",
        unit="福田供电所",
        person="张三",
        outcome="reminder",
    )
    assert act(action="transition", to="closed").status == "closed"
    timeline = client.get(f"/complaints/{c.pk}/").content.decode()
    assert "已办结" in timeline


def test_bulletin_page_ten_day_and_month(client, supervisor, sp):
    make_complaint(sp)
    client.force_login(supervisor)
    today = timezone.localdate()
    resp = client.get(f"/complaints/bulletin/?date={today.isoformat()}")
    html = resp.content.decode()
    assert resp.status_code == 200
    assert "投诉旬报" in html
    assert "download-xlsx" in html
    resp = client.get(f"/complaints/bulletin/?period=month&date={today.isoformat()}")
    assert "投诉月度考核" in resp.content.decode()
    assert resp.context["data"]["total"] == 1
