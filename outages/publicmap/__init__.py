"""The public outage map's data: outage areas, the published snapshot, coordinate datums.

- ``geometry``: the small map area of an outage (pure).
- ``coords``: WGS-84 ↔ GCJ-02 conversion for display (pure).
- ``publishing``: versioned snapshot files, published atomically, and the throttle (no ORM).
- ``snapshot``: the snapshot wired to real outages (selector, publish service, event hook).
"""
