"""Hooks a higher app fills in (the two upward paths besides ``outages.events``).

- ``work_progress``: the repair work on an outage, for the agent's page and the snapshot.
- ``public_crew``: the crew on an outage as the public may see it.
- ``return_visits``: a premise's closed orders and their satisfaction visits (agent's page).

Each module declares its provider's contract as a typed ``Protocol``; the higher app
registers an implementation in its ``AppConfig.ready()``.
"""
