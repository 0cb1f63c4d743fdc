"""The public map's storm-proof snapshot: versioned static files, published atomically. No ORM.

During a storm hundreds of thousands of people open the outage map at once. The map page
therefore never reads live tables: a background task builds the public picture (summary,
outage areas) from the database at most once per quiet period, and ``publish_snapshot``
writes it as plain files that nginx or a CDN serves with no application code at all::

    SNAPSHOT_DIR/
      current.json                 {"version", "generated_at", "files": {name: "v000123/name"}}
      v000123/summary.json         (and summary.json.gz, precompressed for nginx gzip_static)
      v000123/outages.geojson
      v000122/...                  older versions, pruned to the newest ``keep``

Versioned files never change once written, so they are served ``immutable`` with a year's
max-age; only the small ``current.json`` is revalidated (max-age of a few seconds, ETag).
A reader therefore always sees a complete version: the version directory is written under a
temporary name, fsynced and renamed into place before ``current.json`` (replaced atomically
with ``os.replace``) names it, and a version is pruned only once ``keep`` newer ones exist.

Publishers in several processes (Celery workers) serialise on an ``fcntl.flock`` held on a
lock file in the directory; the version comes from a counter file written under that lock,
so versions strictly increase across processes and restarts even after old directories are
pruned. ``flock`` is reliable on a local file system; with several publishing hosts, let one
host publish and ship the directory (rsync, object storage) rather than share it over NFS.

The second half of the module throttles publishing to at most once per interval with the
Django cache (Redis in production); see ``should_publish_now``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import gzip
import json
import math
import os
import re
import shutil
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple, TypedDict

from dispatch_center.core.dates import iso
from grids.geodata import DISTRICTS, DistrictInfo

CURRENT_NAME = "current.json"
LOCK_NAME = ".publish.lock"
COUNTER_NAME = ".version"
TMP_PREFIX = ".tmp-"
VERSION_DIR_RE = re.compile(r"^v(\d{6,})$")
# A snapshot file name: one path segment, no leading dot (hidden/temporary files are ours).
FILE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}\.(?:json|geojson)$")
# Files of at least this size also get a precompressed ``.gz`` twin for nginx ``gzip_static``.
GZIP_MIN_BYTES = 256
COORD_DECIMALS = 5  # about 1 m: enough for an outage area, and it keeps the file small


class SnapshotError(ValueError):
    """A snapshot cannot be published as asked (bad file name, nothing to publish)."""


def version_dirname(version: int) -> str:
    """The directory name of ``version``: ``v`` and at least six digits (sorts as text)."""
    return f"v{version:06d}"


def publish_snapshot(
    files: Mapping[str, bytes | Mapping[str, Any] | list[Any]],
    *,
    directory: str | os.PathLike[str],
    keep: int = 5,
    generated_at: dt.datetime | None = None,
) -> int:
    """Write ``files`` as a new snapshot version in ``directory`` and point ``current.json`` at it.

    ``files`` maps a file name (``summary.json``, ``outages.geojson``) to its bytes or to a
    JSON-serialisable value (dumped compactly as UTF-8). Returns the new version number,
    strictly greater than every version published before in ``directory`` by any process.
    Keeps the newest ``keep`` versions (at least one) and removes older ones and any temporary
    directory a crashed publisher left behind. Safe to call concurrently from several
    processes on one host; readers never see a partial version.
    """
    if not files:
        raise SnapshotError("a snapshot needs at least one file")
    if keep < 1:
        raise SnapshotError("keep must be at least 1")
    payloads = {name: _encode(name, content) for name, content in files.items()}
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    generated = generated_at or dt.datetime.now(tz=dt.UTC)
    if generated.tzinfo is None:
        raise SnapshotError("generated_at must be timezone-aware")

    with _publish_lock(root):
        _remove_stale_temporaries(root)
        version = _reserve_version(root)
        final_dir = root / version_dirname(version)
        tmp_dir = Path(tempfile.mkdtemp(prefix=TMP_PREFIX, dir=root))
        try:
            for name, data in payloads.items():
                _write_durably(tmp_dir / name, data)
                if len(data) >= GZIP_MIN_BYTES:
                    # mtime=0 keeps the .gz byte-identical for identical content.
                    _write_durably(tmp_dir / f"{name}.gz", gzip.compress(data, 9, mtime=0))
            # mkdtemp creates 0700; nginx workers run as another user and must read it.
            tmp_dir.chmod(0o755)
            _fsync_directory(tmp_dir)
            tmp_dir.rename(final_dir)
        except BaseException:
            shutil.rmtree(tmp_dir, ignore_errors=True)
            raise
        _fsync_directory(root)

        current = {
            "version": version,
            "generated_at": generated.isoformat(),
            "files": {name: f"{final_dir.name}/{name}" for name in payloads},
        }
        _replace_atomically(root / CURRENT_NAME, _dumps(current))
        _prune(root, keep=keep, current=version)
    return version


def read_current(directory: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The parsed ``current.json`` of ``directory``, or ``None`` before the first publish."""
    try:
        return json.loads((Path(directory) / CURRENT_NAME).read_bytes())
    except FileNotFoundError:
        return None


def published_versions(directory: str | os.PathLike[str]) -> list[int]:
    """The version numbers present in ``directory``, oldest first."""
    root = Path(directory)
    if not root.is_dir():
        return []
    found = []
    for entry in root.iterdir():
        match = VERSION_DIR_RE.match(entry.name)
        if match and entry.is_dir():
            found.append(int(match.group(1)))
    return sorted(found)


# --- file system helpers ----------------------------------------------------------------------


def _encode(name: str, content: bytes | Mapping[str, Any] | list[Any]) -> bytes:
    if not FILE_NAME_RE.match(name):
        raise SnapshotError(f"invalid snapshot file name: {name!r}")
    if name == CURRENT_NAME:
        raise SnapshotError(f"{CURRENT_NAME} is written by the publisher itself")
    if isinstance(content, bytes | bytearray | memoryview):
        return bytes(content)
    return _dumps(content)


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _dumps(value: Any) -> bytes:
    return json.dumps(
        value, ensure_ascii=False, separators=(",", ":"), default=_json_default
    ).encode()


@contextlib.contextmanager
def _publish_lock(root: Path) -> Iterator[None]:
    fd = os.open(root / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        # Blocks until any other publisher (another worker process) has finished.
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _reserve_version(root: Path) -> int:
    """Next version: above the counter, every directory and ``current.json``. Caller holds the
    lock. The counter is saved before the directory is written, so a publisher that crashes
    half-way burns its number instead of letting a later one reuse it."""
    counter = 0
    with contextlib.suppress(FileNotFoundError, ValueError):
        counter = int((root / COUNTER_NAME).read_text().strip() or 0)
    current = read_current(root) or {}
    highest = max([counter, int(current.get("version", 0)), *published_versions(root)])
    version = highest + 1
    _replace_atomically(root / COUNTER_NAME, f"{version}\n".encode())
    return version


def _write_durably(path: Path, data: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    path.chmod(0o644)


def _replace_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(f"{TMP_PREFIX}{path.name}.{os.getpid()}")
    _write_durably(tmp, data)
    os.replace(tmp, path)
    _fsync_directory(path.parent)


def _fsync_directory(path: Path) -> None:
    # Makes the renames themselves durable: without it a power cut can lose a rename that
    # readers have already seen.
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_stale_temporaries(root: Path) -> None:
    """Caller holds the lock, so any temporary left is from a publisher that died."""
    for entry in root.iterdir():
        if entry.name.startswith(TMP_PREFIX):
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)


def _prune(root: Path, *, keep: int, current: int) -> None:
    # Keeping a few old versions lets a client that read the previous current.json (from a
    # CDN that caches it for a few seconds) still fetch the files it names.
    versions = published_versions(root)
    for version in versions[:-keep]:
        if version != current:
            shutil.rmtree(root / version_dirname(version), ignore_errors=True)


# --- building the public files -------------------------------------------------------------------


class PublicOutage(TypedDict):
    """One active outage as the snapshot builder takes it (public fields only, no personal data).

    ``geometry`` is a GeoJSON Polygon / MultiPolygon in WGS-84 (``outages.publicmap.geometry``
    builds it) or ``None``; ``lat``/``lng`` a label point inside it. Times are aware datetimes or
    ``None``. ``district`` is a ``grids.geodata`` district code.
    """

    id: int
    category: str
    type: str
    type_name: str
    type_name_en: str
    status: str
    cause: str | None
    cause_name: str | None
    cause_name_en: str | None
    started_at: dt.datetime | None
    etr: dt.datetime | None
    customers_affected: int
    district: str | None
    crew_status: str | None
    lat: float
    lng: float
    geometry: dict[str, Any] | None


def snapshot_files(
    *,
    outages: Iterable[PublicOutage],
    generated_at: dt.datetime,
    districts: Iterable[DistrictInfo] = DISTRICTS,
) -> dict[str, dict[str, Any]]:
    """The public snapshot's files for ``outages``: ``summary.json`` and ``outages.geojson``.

    ``outages.geojson`` is a FeatureCollection; each feature has the outage's area as geometry
    (a Point at its label point when it has no area) and these properties, all public:
    ``id``, ``category`` (planned / temporary / fault / other), ``type`` (type code),
    ``status``, ``cause`` (cause code or null), ``started_at``, ``etr`` (ISO 8601 or null),
    ``customers_affected``, ``district`` (district code or null), ``crew_status`` (or null),
    ``lat``, ``lng`` (label point). The collection carries ``generated_at`` and ``labels``
    (``{"type"|"cause": {code: {"zh-hans": name, "en": name}}}``) so one file serves both
    languages. ``summary.json`` has the totals, per category and per district (every district,
    largest first), with the districts' names in both languages.
    """
    features: list[dict[str, Any]] = []
    labels: dict[str, dict[str, dict[str, str]]] = {"type": {}, "cause": {}}
    total = 0
    by_category: dict[str, dict[str, int]] = defaultdict(lambda: {"outages": 0, "customers": 0})
    by_district: dict[str | None, dict[str, int]] = defaultdict(
        lambda: {"outages": 0, "customers": 0}
    )
    for outage in outages:
        customers = int(outage["customers_affected"])
        total += customers
        for bucket in (by_category[outage["category"]], by_district[outage["district"]]):
            bucket["outages"] += 1
            bucket["customers"] += customers
        labels["type"][outage["type"]] = {
            "zh-hans": outage["type_name"],
            "en": outage["type_name_en"] or outage["type_name"],
        }
        if outage["cause"]:
            labels["cause"][outage["cause"]] = {
                "zh-hans": outage["cause_name"] or outage["cause"],
                "en": outage["cause_name_en"] or outage["cause_name"] or outage["cause"],
            }
        features.append(_feature(outage, customers))
    generated = generated_at.isoformat()
    summary = {
        "generated_at": generated,
        "active_outages": len(features),
        "customers_affected": total,
        "by_category": {
            code: {"outages": v["outages"], "customers_affected": v["customers"]}
            for code, v in sorted(by_category.items())
        },
        "by_district": _district_rows(districts, by_district),
    }
    collection = {
        "type": "FeatureCollection",
        "generated_at": generated,
        "labels": labels,
        "features": features,
    }
    return {"summary.json": summary, "outages.geojson": collection}


def _feature(outage: PublicOutage, customers: int) -> dict[str, Any]:
    """One outage as a GeoJSON feature (properties documented in ``snapshot_files``)."""
    lat, lng = round(outage["lat"], COORD_DECIMALS), round(outage["lng"], COORD_DECIMALS)
    geometry = outage["geometry"] or {"type": "Point", "coordinates": [lng, lat]}
    return {
        "type": "Feature",
        "id": outage["id"],
        "geometry": {
            "type": geometry["type"],
            "coordinates": _round_positions(geometry["coordinates"]),
        },
        "properties": {
            "id": outage["id"],
            "category": outage["category"],
            "type": outage["type"],
            "status": outage["status"],
            "cause": outage["cause"],
            "started_at": _iso(outage["started_at"]),
            "etr": _iso(outage["etr"]),
            "customers_affected": customers,
            "district": outage["district"],
            "crew_status": outage["crew_status"],
            "lat": lat,
            "lng": lng,
        },
    }


def _district_rows(
    districts: Iterable[DistrictInfo], counts: Mapping[str | None, Mapping[str, int]]
) -> list[dict[str, Any]]:
    """Every district with its counts, most customers affected first."""
    empty = {"outages": 0, "customers": 0}
    rows: list[dict[str, Any]] = [
        {
            "code": d.code,
            "name": d.name,
            "name_en": d.name_en,
            "outages": counts.get(d.code, empty)["outages"],
            "customers_affected": counts.get(d.code, empty)["customers"],
        }
        for d in districts
    ]
    rows.sort(key=lambda row: (-row["customers_affected"], -row["outages"], row["code"]))
    return rows


def districts_geojson(districts: Iterable[DistrictInfo] = DISTRICTS) -> dict[str, Any]:
    """The district outlines as a GeoJSON FeatureCollection (``code``, ``name``, ``name_en``,
    label point ``lat``/``lng``): drawn by the map so it stays readable without tiles."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": d.code,
                "geometry": {"type": "Polygon", "coordinates": d.outline}
                if len(d.outline) == 1
                else {"type": "MultiPolygon", "coordinates": [[ring] for ring in d.outline]},
                "properties": {
                    "code": d.code,
                    "name": d.name,
                    "name_en": d.name_en,
                    "lat": d.center_lat,
                    "lng": d.center_lng,
                },
            }
            for d in districts
        ],
    }


def _iso(value: dt.datetime | None) -> str | None:
    return iso(value, local=False)


def _round_positions(value: Any) -> Any:
    if value and isinstance(value[0], int | float):
        return [round(float(c), COORD_DECIMALS) for c in value]
    return [_round_positions(item) for item in value]


# --- throttling: at most one publish per interval ---------------------------------------------


class PublishDecision(NamedTuple):
    """What a caller should do after a change: publish now, schedule one publish, or nothing.

    ``schedule_in`` is set (seconds) when this caller must enqueue the one deferred publish of
    the current quiet period (e.g. ``task.apply_async(countdown=schedule_in)``).
    """

    publish_now: bool
    schedule_in: float | None


def should_publish_now(
    key: str, *, interval: float, cache: Any = None, now: float | None = None
) -> PublishDecision:
    """Throttle publishing of ``key`` to at most once per ``interval`` seconds, losing no change.

    Call after every change (after commit). The first change after a quiet period publishes
    at once and opens a window of ``interval`` seconds (``cache.add`` is atomic, so exactly
    one caller among concurrent ones wins). The first change *inside* the window wins a second
    ``add`` on a "pending" key and is told to schedule one publish for the window's end; later
    changes in the window are covered by it and do nothing. The deferred publish must call
    ``deferred_publish_started`` before it reads the data. If that deferred task is lost, the
    pending mark expires one interval after the window, and the next change schedules again.

    ``cache`` defaults to Django's default cache (Redis in production: shared by all workers).
    """
    cache = cache if cache is not None else _default_cache()
    now = time.time() if now is None else now
    window_key, pending_key = _throttle_keys(key)
    if cache.get(pending_key) is not None:
        # A deferred publish is already due; it will read this change too.
        return PublishDecision(publish_now=False, schedule_in=None)
    if cache.add(window_key, now, timeout=_ttl(interval)):
        return PublishDecision(publish_now=True, schedule_in=None)
    opened_at = cache.get(window_key)
    remaining = interval if opened_at is None else max(0.0, float(opened_at) + interval - now)
    if cache.add(pending_key, now, timeout=_ttl(remaining + interval)):
        return PublishDecision(publish_now=False, schedule_in=remaining)
    return PublishDecision(publish_now=False, schedule_in=None)


def deferred_publish_started(
    key: str, *, interval: float, cache: Any = None, now: float | None = None
) -> None:
    """Mark the start of the deferred publish of ``key``: opens the next quiet window, then
    clears the pending mark, in that order. A change racing in between finds both set and is
    covered by this publish (which reads the data afterwards); one arriving after the clear
    schedules the next deferred publish, so nothing is missed and the rate stays bounded."""
    cache = cache if cache is not None else _default_cache()
    now = time.time() if now is None else now
    window_key, pending_key = _throttle_keys(key)
    cache.set(window_key, now, timeout=_ttl(interval))
    cache.delete(pending_key)


def _throttle_keys(key: str) -> tuple[str, str]:
    return f"publish:{key}:window", f"publish:{key}:pending"


def _ttl(seconds: float) -> int:
    # Cache backends round timeouts to whole seconds and treat 0 as "expire now".
    return max(1, math.ceil(seconds))


def _default_cache() -> Any:
    from django.core.cache import cache

    return cache
