"""Server-rendered pages of the outages app; routes in ``outages.urls``.

- ``public``: the public outage map, report tracking and the snapshot files (no login).
- ``agent``: the hotline agent's page.
"""
