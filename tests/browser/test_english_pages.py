"""Pages in English show no Chinese outside names and addresses (the customer's name and
address, the network's and the crews' names: data, not interface). Covers the home page, the
login page, the agent desk (start page and an open premise with its outage, repair order and
closed orders), the public map and the admin index. The console has its own test."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from dispatch_center.core import roles
from grids.models import Crew, Device, Feeder, Grid, ServicePoint, SubDistrict, Substation
from outages.models import Outage, OutageCause, OutageEvent
from outages.services import outage_create
from outages.tests.conftest import build_network
from outages.tests.factories import outage_cause, outage_type
from workorders.models import WorkOrder

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pass-for-tests-1"
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff01-\uff5e]+")
# Each language is named in its own language in the language menu.
OWN_NAMES = ("简体中文",)


def _data_strings() -> list[str]:
    """Names and addresses stored as data (longest first, so a name inside an address goes
    with the address)."""
    values: set[str] = set()
    for model, fields in (
        (ServicePoint, ("customer_name", "address")),
        (Crew, ("name",)),
        (Device, ("name", "code")),
        (Feeder, ("name",)),
        (Substation, ("name",)),
        (Grid, ("name",)),
        (SubDistrict, ("name",)),
        (WorkOrder, ("title", "address")),
        (Outage, ("description",)),
        # Timeline reasons are records, kept in the words they were written in.
        (OutageEvent, ("reason",)),
    ):
        for row in model.objects.values_list(*fields):
            values.update(v for v in row if v)
    return sorted(values, key=len, reverse=True)


def han_outside_data(text: str) -> list[str]:
    """The runs of Chinese characters left in ``text`` once data and language names are out."""
    for value in [*_data_strings(), *OWN_NAMES]:
        text = text.replace(value, " ")
    return HAN.findall(text)


def _english(bp) -> None:
    page = bp.page
    bp.goto("/")
    with page.expect_navigation():
        page.select_option("select[name=language]", "en")
    assert page.locator("html").get_attribute("lang") == "en"


def _check(bp, path: str, ready: str = "body") -> list[str]:
    """The lines of ``path`` (its text, title, placeholders and labels) that still show
    Chinese once names and addresses are out."""
    bp.goto(path)
    bp.page.locator(ready).first.wait_for()
    text = bp.page.locator("body").inner_text()
    extra = bp.page.evaluate(
        "() => [document.title, ...Array.from(document.querySelectorAll('[placeholder],"
        " [aria-label], [title]'), n => [n.getAttribute('placeholder'),"
        " n.getAttribute('aria-label'), n.getAttribute('title')].join(' '))].join(' ')"
    )
    # The lines that still hold Chinese, so a failure shows them in context.
    return [line for line in (text + "\n" + extra).splitlines() if han_outside_data(line)]


@pytest.fixture
def english_world():
    """An outage with a cause, ETR and a dispatched repair order over the caller, a closed
    order at the caller's premise, and a superuser who is also a hotline agent."""
    from workorders.tests.factories import force_status, make_crew, make_order, reference_data

    reference_data()
    network = build_network()
    caller = network.sps["T2"][1]
    cause = outage_cause("cable_fault")
    OutageCause.objects.filter(pk=cause.pk).update(name="电缆故障", name_en="Cable fault")
    crew = make_crew(grid=caller.grid, dlat=0.01, skills=("lv", "mv", "hv", "cable"))
    outage = outage_create(
        type=outage_type("fault_mv_feeder"),
        device=network["S1"],
        source=Outage.Source.DISPATCHER,
        actor=None,
        status=Outage.Status.CONFIRMED,
        cause=OutageCause.objects.get(pk=cause.pk),
        etr=timezone.now() + timedelta(hours=2),
        description="10 kV 电缆故障",
    )
    order = WorkOrder.objects.filter(outage=outage).first() or make_order(
        outage=outage, kind=WorkOrder.Kind.OUTAGE_REPAIR, title="电缆抢修"
    )
    if order.status not in WorkOrder.WITH_CREW:
        force_status(order, WorkOrder.Status.DISPATCHED, crew=crew)
    force_status(
        make_order(service_point=caller, title="表箱烧坏"),
        WorkOrder.Status.CLOSED,
        crew=crew,
        closed_at=timezone.now() - timedelta(hours=3),
    )
    admin = User.objects.create_superuser(username="root8", password=PASSWORD, email="")
    admin.groups.add(Group.objects.get_or_create(name=roles.HOTLINE_AGENT)[0])
    return network, caller, outage


def test_pages_in_english_show_no_chinese_outside_names_and_addresses(desktop_page, english_world):
    _network, caller, _outage = english_world
    page = desktop_page.page
    _english(desktop_page)
    found = {
        "/": _check(desktop_page, "/", ".cards"),
        "/accounts/login/": _check(desktop_page, "/accounts/login/", "#id_username"),
        "/map/": _check(desktop_page, "/map/", "#map"),
    }
    # Signed in
    desktop_page.goto("/accounts/login/")
    page.fill("#id_username", "root8")
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    found["/agent/"] = _check(desktop_page, "/agent/", "#overview")
    premise = f"/agent/?q={caller.account_no}&sp={caller.pk}"
    found[premise] = _check(desktop_page, premise, "#complaint-risk-level")
    # The premise page shows what the check is for: the repair order's state and deadline
    # mark, the caller script, and a closed order to call back about
    assert page.locator("#work-progress .sla").inner_text().strip() != ""
    script = page.locator("#script-text").inner_text()
    assert script.startswith("Hello")
    assert page.locator("#return-visits .visit-form").count() == 1
    # Dates name their month ("5 Dec 18:30"), never "12-05"
    started = page.locator("#outage .facts div").nth(1).locator("dd").inner_text()
    assert re.fullmatch(
        r"\d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d\d:\d\d", started
    )
    # The language menu names each language in its own language
    assert page.locator("select[name=language] option").all_inner_texts() == ["简体中文", "English"]
    found["/admin/"] = _check(desktop_page, "/admin/", "#content")
    bad = {path: left for path, left in found.items() if left}
    assert not bad, f"Chinese on English pages: {bad!r}"


def test_the_check_finds_chinese_interface_text():
    # A test that could never fail proves nothing: interface words are caught, data are not.
    assert han_outside_data("Note 备注: dispatched") == ["备注"]
    assert han_outside_data("Language 简体中文") == []


def test_the_chinese_admin_names_models_in_chinese(desktop_page, english_world):
    _network, _caller, outage = english_world
    page = desktop_page.page
    desktop_page.goto("/accounts/login/?next=/admin/")
    page.fill("#id_username", "root8")
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    # The index lists the models by their Chinese names
    content = page.locator("#content-main").inner_text()
    for name in ("停电事件", "抢修工单", "用电户", "抢修班组", "满意度回访"):
        assert name in content
    assert "Outages" not in content
    assert "Work orders" not in content
    # A read-only record's page is titled in Chinese too ("查看 停电事件", not "查看 outage")
    desktop_page.goto(f"/admin/outages/outage/{outage.pk}/change/")
    heading = page.locator("#content h1").inner_text()
    assert "停电事件" in heading
    assert "outage" not in heading.lower()
