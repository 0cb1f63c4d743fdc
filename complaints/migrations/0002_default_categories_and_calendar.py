"""Default complaint categories (with deadlines) and the 2026 working-day calendar.

Both are editable defaults: the admin changes deadlines, adds categories and enters each
new year's public holidays and make-up working days.
"""

from datetime import date, timedelta

from django.db import migrations

# (code, name, English name, [(sub code, name, English name, contact hours, reply days)])
CATEGORIES = [
    ("outage", "停电及复电", "Outages and restoration", [
        ("outage_frequent", "频繁停电", "Frequent outages", None, None),
        ("outage_long", "停电时间长", "Long outage", None, None),
        ("outage_no_notice", "停电未通知", "Outage without notice", None, None),
        ("outage_restore_slow", "复电慢", "Slow restoration", None, None),
    ]),
    ("power_quality", "供电质量", "Power quality", [
        ("pq_low_voltage", "电压偏低", "Low voltage", None, None),
        ("pq_flicker", "电压波动/闪变", "Voltage flicker", None, None),
    ]),
    ("repair_service", "抢修服务", "Repair service", [
        ("repair_late", "抢修到达超时", "Crew arrived late", None, None),
        ("repair_quality", "抢修质量", "Repair quality", None, None),
        ("repair_hazard", "安全隐患未处理", "Hazard left unattended", 2, 2),
    ]),
    ("billing", "电费及业务办理", "Billing and business", [
        ("billing_amount", "电费异议", "Disputed bill", None, None),
        ("billing_process", "业务办理时限", "Slow business process", None, None),
    ]),
    ("service_conduct", "服务行为", "Service conduct", [
        ("conduct_attitude", "服务态度", "Staff attitude", None, None),
        ("conduct_rules", "违规收费/吃拿卡要", "Improper charges", None, None),
    ]),
    ("grid_construction", "电网建设", "Grid construction", [
        ("construction_nuisance", "施工扰民", "Construction nuisance", None, None),
        ("construction_siting", "设施选址", "Facility siting", None, None),
    ]),
    ("information", "信息发布", "Information release", [
        ("info_etr", "预计复电时间不准", "Inaccurate restoration time", None, None),
        ("info_notice", "停电信息未告知", "Outage information not given", None, None),
    ]),
]

# 2026 public holidays and make-up working days (State Council notice for 2026).
HOLIDAYS_2026 = [
    ("元旦", date(2026, 1, 1), date(2026, 1, 3)),
    ("春节", date(2026, 2, 15), date(2026, 2, 23)),
    ("清明节", date(2026, 4, 4), date(2026, 4, 6)),
    ("劳动节", date(2026, 5, 1), date(2026, 5, 5)),
    ("端午节", date(2026, 6, 19), date(2026, 6, 21)),
    ("中秋节", date(2026, 9, 25), date(2026, 9, 27)),
    ("国庆节", date(2026, 10, 1), date(2026, 10, 7)),
]
WORKDAYS_2026 = [
    ("元旦调休", date(2026, 1, 4)),
    ("春节调休", date(2026, 2, 14)),
    ("春节调休", date(2026, 2, 28)),
    ("劳动节调休", date(2026, 5, 9)),
    ("国庆节调休", date(2026, 9, 20)),
    ("国庆节调休", date(2026, 10, 10)),
]


def load(apps, schema_editor):
    Category = apps.get_model("complaints", "ComplaintCategory")
    CalendarDay = apps.get_model("complaints", "CalendarDay")
    for n, (code, name, name_en, subs) in enumerate(CATEGORIES):
        parent, _ = Category.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "name_en": name_en,
                "contact_hours": 24,
                "reply_working_days": 5,
                "sort_order": (n + 1) * 10,
            },
        )
        for m, (sub, sub_name, sub_en, hours, days) in enumerate(subs):
            Category.objects.get_or_create(
                code=sub,
                defaults={
                    "name": sub_name,
                    "name_en": sub_en,
                    "parent": parent,
                    "contact_hours": hours,
                    "reply_working_days": days,
                    "sort_order": (n + 1) * 10 + m + 1,
                },
            )
    for name, first, last in HOLIDAYS_2026:
        day = first
        while day <= last:
            CalendarDay.objects.get_or_create(date=day, defaults={"kind": "holiday", "name": name})
            day += timedelta(days=1)
    for name, day in WORKDAYS_2026:
        CalendarDay.objects.get_or_create(date=day, defaults={"kind": "workday", "name": name})


def unload(apps, schema_editor):
    Category = apps.get_model("complaints", "ComplaintCategory")
    CalendarDay = apps.get_model("complaints", "CalendarDay")
    codes = [c[0] for c in CATEGORIES] + [s[0] for c in CATEGORIES for s in c[3]]
    Category.objects.filter(code__in=codes, parent__isnull=False, complaints__isnull=True).delete()
    Category.objects.filter(code__in=codes, children__isnull=True, complaints__isnull=True).delete()
    CalendarDay.objects.filter(date__year=2026).delete()


class Migration(migrations.Migration):
    dependencies = [("complaints", "0001_complaints_schema")]

    operations = [migrations.RunPython(load, unload)]
