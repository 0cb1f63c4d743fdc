"""The Celery application.

Queues: ``dispatch`` (latency-sensitive crew assignment), ``default`` and ``analytics``
(reliability roll-ups and reports). Periodic jobs are listed in ``beat_schedule``; each one is
a sweeper that selects due rows and enqueues one task per row.
"""

import os

from celery import Celery
from celery.schedules import crontab
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dispatch_center.settings.local")

app = Celery("dispatch_center")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (Queue("default"), Queue("dispatch"), Queue("analytics"))
app.conf.task_default_queue = "default"
app.conf.beat_schedule = {
    # reliability (analytics queue): nightly frequent-outage full scan, daily figures.
    "reliability-frequent-outage-scan": {
        "task": "reliability.frequent_outage_scan",
        "schedule": crontab(hour=1, minute=30),
        "options": {"queue": "analytics"},
    },
    "reliability-daily-indices": {
        "task": "reliability.daily_indices",
        "schedule": crontab(hour=0, minute=20),
        "options": {"queue": "analytics"},
    },
    # dashboard (analytics queue): the stored daily figures of the last days, agent points.
    "dashboard-nightly": {
        "task": "dashboard.nightly",
        "schedule": crontab(hour=0, minute=40),
        "options": {"queue": "analytics"},
    },
    # outages: start and end planned outages on time (sweepers; one task per due outage).
    "outages-planned-start-due": {
        "task": "outages.planned_outages_start_due",
        "schedule": 60.0,
    },
    "outages-planned-restore-due": {
        "task": "outages.planned_outages_restore_due",
        "schedule": 60.0,
    },
    # outages: the roll-up's safety net under the debounced trigger; stuck reports.
    "outages-rollup-sweep": {
        "task": "outages.rollup_sweep",
        "schedule": 30.0,
    },
    # outages: the public snapshot's safety net (changes publish it, throttled); the outbox.
    "outages-snapshot-publish": {"task": "outages.snapshot_publish", "schedule": 300.0},
    "outages-notifications-sweep": {"task": "outages.notifications_sweep", "schedule": 60.0},
    # workorders: SLA marks, offer and pool expiry, the stuck-order sweeper, storm batches.
    "workorders-sla-watch": {"task": "workorders.sla_watch", "schedule": 60.0},
    "workorders-offers-expire": {"task": "workorders.offers_expire_due", "schedule": 15.0},
    "workorders-pool-expire": {"task": "workorders.pool_expire_due", "schedule": 15.0},
    "workorders-requeue-stuck": {"task": "workorders.requeue_stuck", "schedule": 30.0},
    # complaints: contact and reply deadline warnings and breaches.
    "complaints-deadlines": {"task": "complaints.deadlines_sweep", "schedule": 60.0},
    "workorders-storm-batch": {
        "task": "workorders.dispatch_batch",
        "schedule": 5.0,
        "kwargs": {"only_in_storm": True},
        "options": {"queue": "dispatch"},
    },
}
app.autodiscover_tasks()
