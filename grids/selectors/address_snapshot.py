"""The process's in-memory address index (``grids.address_index``), and how it stays current.

Each web process builds the index once, in a background thread, from one consistent read of
the service points, and remembers the version of ``grids_address_version`` it was built at
(see migration ``grids.0008``: a counter raised by a trigger on every change to what the index
holds). A look-up that searched the index reads the counter in the same statement as its
matches' details (``outages.selectors.lookup``); when the counter has moved on, the index is
dropped, a new one is built in the background, and that look-up (and every one until the new
index is ready) searches the database instead. So the index never answers from rows that
changed: at worst a look-up costs what it cost without it.

PostgreSQL only (the counter's trigger); turned off with ``PUBLIC_LOOKUP_ADDRESS_INDEX =
False``. Building costs about 2 s and 65 MB at 300,000 service points.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction

from grids.address_index import AddressIndex

log = logging.getLogger(__name__)

VERSION_SQL = "SELECT version FROM grids_address_version WHERE id = 1"
# After a failed build, the database is searched for this long before the next attempt.
RETRY_SECONDS = 60.0
_CHUNK = 50_000


@dataclass(frozen=True, slots=True)
class AddressSnapshot:
    """An index of the service points at ``version``, with the districts' ids by name."""

    index: AddressIndex
    version: int
    districts: dict[str, frozenset[int]] = field(default_factory=dict)
    build_seconds: float = 0.0


_lock = threading.Lock()
_current: AddressSnapshot | None = None
_building = 0  # the pid of the process building one, or 0 (a fork does not inherit a thread)
_failed_at = 0.0


def enabled() -> bool:
    return connection.vendor == "postgresql" and bool(
        getattr(settings, "PUBLIC_LOOKUP_ADDRESS_INDEX", True)
    )


def current() -> AddressSnapshot | None:
    """The index to search, or None (not built yet, being rebuilt, or turned off): then
    search the database. Starts a build in the background when there is none. The caller
    checks the version (``VERSION_SQL``) with its read and calls ``outdated`` when it moved."""
    if not enabled():
        return None
    snapshot = _current
    if snapshot is None:
        _start_build()
    return snapshot


def outdated(seen: int | None) -> None:
    """The database's version is ``seen``: drop the index when it was built at another one
    and build a new one in the background."""
    global _current
    with _lock:
        if _current is not None and _current.version != seen:
            _current = None
    _start_build()


def build() -> AddressSnapshot:
    """Build the index now from the database, on this thread's connection, and use it.

    Reads the version, the districts and the service points in one repeatable-read
    transaction, so the index is exactly that version's."""
    global _current
    started = time.perf_counter()
    ids: list[int] = []
    norms: list[str] = []
    accounts: list[str] = []
    districts: list[int | None] = []
    by_name: dict[str, set[int]] = {}
    outer = connection.in_atomic_block
    with transaction.atomic():
        with connection.cursor() as cursor:
            if not outer:  # the transaction's first statement
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cursor.execute(VERSION_SQL)
            row = cursor.fetchone()
            version = int(row[0]) if row else 0
            cursor.execute("SELECT id, name FROM grids_district")
            for pk, name in cursor.fetchall():
                by_name.setdefault(name, set()).add(pk)
        with connection.chunked_cursor() as cursor:
            cursor.execute(
                "SELECT id, address_norm, account_no, district_id FROM grids_servicepoint"
            )
            while rows := cursor.fetchmany(_CHUNK):
                for pk, norm, account, district in rows:
                    ids.append(pk)
                    norms.append(norm)
                    accounts.append(account)
                    districts.append(district)
    index = AddressIndex.build(ids, norms, accounts, districts)
    snapshot = AddressSnapshot(
        index=index,
        version=version,
        districts={name: frozenset(pks) for name, pks in by_name.items()},
        build_seconds=time.perf_counter() - started,
    )
    with _lock:
        _current = snapshot
    log.info(
        "address index: %d service points at version %d, %.1f MB, built in %.2f s",
        index.size,
        version,
        index.nbytes / 1e6,
        snapshot.build_seconds,
    )
    return snapshot


def reset() -> None:
    """Forget the index (tests)."""
    global _current, _failed_at
    with _lock:
        _current = None
        _failed_at = 0.0


def warm() -> None:
    """Start building the index now (a web process starting), rather than at the first
    look-up."""
    current()


def _start_build() -> None:
    global _building
    with _lock:
        building = _building == os.getpid()
        if building or _current is not None or time.monotonic() - _failed_at < RETRY_SECONDS:
            return
        _building = os.getpid()
    threading.Thread(target=_build_in_background, name="address-index", daemon=True).start()


def _build_in_background() -> None:
    global _building, _failed_at
    try:
        build()
    except Exception:
        log.exception("address index: build failed; the look-up searches the database")
        with _lock:
            _failed_at = time.monotonic()
    finally:
        with _lock:
            _building = 0
        connection.close()  # this thread's own connection
