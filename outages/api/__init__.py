"""REST endpoints of the outages app, one module per audience; routes in ``outages.api.urls``.

- ``staff``: the outage information pool (dispatchers, supervisors, hotline agents).
- ``reports``: the staff side of the trouble report intake.
- ``public``: the public look-up and fault reports of the integration contract.
- ``subscriptions``: public subscriptions to outage updates.
- ``scada``: switch-state telemetry from the SCADA/DMS gateway.
"""
