"""Reads of the outages app, one module per concern. Each returns rows with relations loaded.

- ``outages``: outages, planned outages and their notices, per-district counts (re-exported
  here: ``from outages import selectors``).
- ``intake``: trouble reports and an outage's public progress.
- ``agent``: the hotline agent's page (caller search, customer context, the script).
"""

from outages.selectors.outages import *  # noqa: F403
