"""Languages: the Chinese admin names models in Chinese, the language menu names each language
in its own language, and dates read the same way in both languages."""

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.template import Context, Template
from django.utils import timezone, translation

from dispatch_center.core.dates import when

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def admin_client(client, db):
    user = User.objects.create_superuser(username="root9", password="pass-for-tests-1", email="")
    client.force_login(user)
    return client


def test_the_chinese_admin_names_models_in_chinese(admin_client):
    page = admin_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    for name in ("停电事件", "抢修工单", "用电户", "抢修班组", "投诉分类", "满意度回访"):
        assert f">{name}<" in page, name
    for english in (">Outages<", ">Work orders<", ">Service points<", ">Crews<"):
        assert english not in page


def test_the_english_admin_keeps_english_model_names(admin_client):
    admin_client.cookies["django_language"] = "en"
    page = admin_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert ">Outages<" in page
    assert ">停电事件<" not in page


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_language_menu_names_each_language_in_its_own_language(client, db, language):
    client.cookies["django_language"] = language
    page = client.get("/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    options = dict(
        re.findall(r'<option value="([^"]+)" lang="[^"]+"(?: selected)?>([^<]+)</option>', page)
    )
    assert options == {"zh-hans": "简体中文", "en": "English"}
    assert re.search(rf'<option value="{language}" lang="{language}" selected>', page)
    assert "英语" not in page


def test_dates_name_the_month_in_both_languages():
    this_year = timezone.localdate().year
    at = datetime(this_year, 3, 4, 9, 5, tzinfo=SHANGHAI)
    assert when(at, language="zh-hans") == "3月4日 09:05"
    assert when(at, language="en") == "4 Mar 09:05"
    assert when(at, language="en", with_time=False) == "4 Mar"
    # Another year says so; a UTC time is shown in Shanghai time
    old = datetime(2020, 12, 31, 17, 30, tzinfo=ZoneInfo("UTC"))
    assert when(old, language="zh-hans") == "2021年1月1日 01:30"
    assert when(old, language="en") == "1 Jan 2021 01:30"
    assert when(date(this_year, 11, 2), language="en") == "2 Nov"
    assert when(None) == ""


def test_the_when_filter_follows_the_active_language():
    at = timezone.make_aware(datetime(timezone.localdate().year, 12, 5, 18, 30), SHANGHAI)
    template = Template("{% load core_dates %}{{ at|when }}|{{ at|when_date }}")
    with translation.override("en"):
        assert template.render(Context({"at": at})) == "5 Dec 18:30|5 Dec"
    with translation.override("zh-hans"):
        assert template.render(Context({"at": at})) == "12月5日 18:30|12月5日"
