"""Celery tasks of the outages app, one module per concern; thin wrappers around one service.

- ``planned``: the planned-outage sweepers and their start / restore tasks.
- ``intake``: the trouble report intake and the roll-up (run, sweep).
- ``notifications``: the notification outbox (queue, send, sweep).
- ``snapshot``: publishing the public map's snapshot.

Celery's autodiscovery imports ``outages.tasks`` only, so this package imports every module
to register its tasks. Task names (``name=``) are fixed: beat (``dispatch_center/celery.py``)
and queued messages refer to them, not to module paths.
"""

from outages.tasks import intake, notifications, planned, snapshot

__all__ = ["intake", "notifications", "planned", "snapshot"]
