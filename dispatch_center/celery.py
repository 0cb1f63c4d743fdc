"""The Celery application.

Queues: ``dispatch`` (latency-sensitive crew assignment), ``default`` and ``analytics``
(reliability roll-ups and reports). Periodic jobs are listed in ``beat_schedule``; each one is
a sweeper that selects due rows and enqueues one task per row.
"""

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dispatch_center.settings.local")

app = Celery("dispatch_center")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (Queue("default"), Queue("dispatch"), Queue("analytics"))
app.conf.task_default_queue = "default"
app.conf.beat_schedule = {}
app.autodiscover_tasks()
