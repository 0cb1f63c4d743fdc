"""Size of the public map's snapshot for 1,000 active outages (target: <= 1 MB gzipped).

Generates 1,000 synthetic outages with simplified areas of realistic size (20-40 vertices, 5-decimal
coordinates; see bench/_synthetic_outages.py), builds the snapshot files exactly as the map loads
them (``outages.publicmap.publishing.snapshot_files``) and prints each file's raw size and its size
gzipped: at level 9 (the precompressed .gz twin ``publish_snapshot`` writes and nginx serves with
gzip_static) and at level 5 (nginx's on-the-fly gzip in deploy/nginx.conf).

outages.geojson feature properties (documented in ``outages.publicmap.publishing.snapshot_files``):
id, category, type, status, cause, started_at, etr, customers_affected, district,
crew_status, lat, lng; plus a top-level ``labels`` table with the type and cause names in
both languages.

    .venv/bin/python bench/snapshot_size.py [--outages 1000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _synthetic_outages import synthetic_outages  # noqa: E402

from outages.publicmap.publishing import snapshot_files  # noqa: E402

TARGET_GZIP_BYTES = 1_000_000


def _encoded(value: dict) -> bytes:
    # The publisher's own encoding: compact separators, UTF-8.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outages", type=int, default=1000)
    args = parser.parse_args()

    now = dt.datetime.now(tz=dt.UTC).replace(microsecond=0)
    rows = synthetic_outages(args.outages, now=now)
    vertices = [len(r["geometry"]["coordinates"][0]) - 1 for r in rows]
    files = snapshot_files(outages=rows, generated_at=now)

    print(f"snapshot of {args.outages} active outages")
    print(
        f"  polygons: {min(vertices)}-{max(vertices)} vertices "
        f"(mean {statistics.mean(vertices):.1f}), 5-decimal coordinates"
    )
    print(f"  {'file':<18}{'raw':>12}{'gzip -9':>12}{'gzip -5':>12}")
    total_raw = total_gz9 = total_gz5 = 0
    for name, value in files.items():
        raw = _encoded(value)
        gz9 = len(gzip.compress(raw, 9, mtime=0))
        gz5 = len(gzip.compress(raw, 5, mtime=0))
        total_raw, total_gz9, total_gz5 = total_raw + len(raw), total_gz9 + gz9, total_gz5 + gz5
        print(f"  {name:<18}{len(raw):>12,}{gz9:>12,}{gz5:>12,}")
    print(f"  {'total':<18}{total_raw:>12,}{total_gz9:>12,}{total_gz5:>12,}")
    per_outage = total_gz9 / max(1, args.outages)
    print(f"  gzipped per outage: {per_outage:,.0f} bytes")
    ratio = total_gz9 / TARGET_GZIP_BYTES
    verdict = "meets" if total_gz9 <= TARGET_GZIP_BYTES else "MISSES"
    print(
        f"gzipped snapshot {total_gz9 / 1e6:.3f} MB = {ratio:.2f} x the 1 MB target "
        f"({verdict} the target)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
