"""Reading place gazetteer files. Pure: no ORM.

A gazetteer CSV has the columns ``name, address, lat, lng, district`` (and optionally
``kind``: sub_district, community, road or place; inferred from the name when absent).
``read_places`` checks every row and reports each problem with the file name and line, so a
bad file is rejected whole rather than half imported. Coordinates in GCJ-02 (Amap, Tencent) are
converted to WGS-84, the datum the database holds.

``shenzhen_places`` builds such rows from the public Shenzhen division lists (街道, 社区, which
carry no coordinates) and POI files (which do, in GCJ-02): a sub-district or community sits at
the mean of the POIs whose address names it, else at its sub-district's or district's centre;
a road sits at the mean of the POIs on it.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from dispatch_center.core.coords import gcj02_to_wgs84
from grids.address import parse_address

REQUIRED_COLUMNS = ("name", "address", "lat", "lng", "district")
KINDS = ("sub_district", "community", "road", "place")
CRS_CHOICES = ("wgs84", "gcj02")
# A road at the start of an address tail: 福华路, 深南大道, 人民路二横街.
ROAD_RE = re.compile(
    r"[\u4e00-\u9fff]{1,8}?(?:大道|路|街|巷)(?:[一二三四五六七八九十]{1,3}[横直]街)?"
)
COMMUNITY_SUFFIX = "居民委员会"


class GazetteerError(ValueError):
    """A gazetteer file that cannot be imported; ``problems`` lists every bad line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class PlaceRow:
    kind: str
    name: str
    address: str
    lat: float
    lng: float
    district: str


def infer_kind(name: str) -> str:
    """The kind a bare name suggests: 街道, 社区, a road, or a named place."""
    if name.endswith("街道"):
        return "sub_district"
    if name.endswith("社区"):
        return "community"
    if re.fullmatch(r"[\u4e00-\u9fff]{1,12}(大道|路|街|巷)", name):
        return "road"
    return "place"


def road_of(address: str) -> str | None:
    """The road an address names after its city, district, sub-district and community."""
    tail = parse_address(address).norm
    for level in ("街道", "社区"):
        tail = tail.rsplit(level, 1)[-1]
    m = ROAD_RE.match(tail)
    return m.group(0) if m else None


def read_places(path: Path, *, crs: str) -> list[PlaceRow]:
    """Every row of the gazetteer CSV at ``path`` in WGS-84; ``GazetteerError`` on any problem."""
    if crs not in CRS_CHOICES:
        raise GazetteerError([f"{path.name}: unknown coordinate system {crs!r}"])
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise GazetteerError(
                    [f"{path.name}, line 1: missing column(s) {', '.join(missing)}"]
                )
            rows: list[PlaceRow] = []
            problems: list[str] = []
            for record in reader:
                line = reader.line_num
                row = _row(record, crs=crs, where=f"{path.name}, line {line}", problems=problems)
                if row is not None:
                    rows.append(row)
    except UnicodeDecodeError as exc:
        raise GazetteerError([f"{path.name}: not UTF-8 text ({exc.reason})"]) from exc
    if problems:
        raise GazetteerError(problems)
    return rows


def _row(
    record: dict[str, str | None], *, crs: str, where: str, problems: list[str]
) -> PlaceRow | None:
    if None in record:  # more cells than columns
        problems.append(f"{where}: more values than columns")
        return None
    values = {k: (v or "").strip() for k, v in record.items() if k is not None}
    before = len(problems)
    name = values.get("name", "")
    if not name:
        problems.append(f"{where}: name is empty")
    elif len(name) > 100:
        problems.append(f"{where}: name is longer than 100 characters")
    if len(values.get("address", "")) > 200:
        problems.append(f"{where}: address is longer than 200 characters")
    coords: dict[str, float] = {}
    for column, low, high in (("lat", -90.0, 90.0), ("lng", -180.0, 180.0)):
        text = values.get(column, "")
        try:
            number = float(text)
        except ValueError:
            problems.append(f"{where}: {column} {text!r} is not a number")
            continue
        if not low <= number <= high:
            problems.append(f"{where}: {column} {number} is outside {low:g}..{high:g}")
        coords[column] = number
    kind = values.get("kind") or infer_kind(name)
    if kind not in KINDS:
        problems.append(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
    if len(problems) > before:
        return None
    lat, lng = coords["lat"], coords["lng"]
    if crs == "gcj02":
        lat, lng = gcj02_to_wgs84(lat, lng)
    return PlaceRow(
        kind=kind,
        name=name,
        address=values.get("address", ""),
        lat=round(lat, 6),
        lng=round(lng, 6),
        district=values.get("district", ""),
    )


# --- building a gazetteer from the public Shenzhen files --------------------------------------


@dataclass(frozen=True, slots=True)
class Poi:
    """A point of interest in WGS-84 with its address and district name."""

    name: str
    address: str
    district: str
    lat: float
    lng: float


def read_gcj02_pois(path: Path) -> list[Poi]:
    """A POI CSV with ``name, address, district, lng_gcj02, lat_gcj02`` columns, in WGS-84."""
    out = []
    with path.open(encoding="utf-8-sig", newline="") as f:
        for r in csv.DictReader(f):
            lat, lng = gcj02_to_wgs84(float(r["lat_gcj02"]), float(r["lng_gcj02"]))
            out.append(Poi(r["name"], r["address"], r["district"], lat, lng))
    return out


def _mean(points: list[Poi]) -> tuple[float, float]:
    return (
        round(sum(p.lat for p in points) / len(points), 6),
        round(sum(p.lng for p in points) / len(points), 6),
    )


def shenzhen_places(
    *,
    streets: Iterable[dict[str, str]],
    communities: Iterable[dict[str, str]],
    pois: list[Poi],
    district_centres: dict[str, tuple[str, float, float]],
) -> list[PlaceRow]:
    """Gazetteer rows (WGS-84) for the division lists and POIs; see the module docstring.

    ``district_centres`` maps a district code to (name, lat, lng).
    """
    rows: list[PlaceRow] = []
    street_at: dict[str, tuple[float, float]] = {}
    for s in streets:
        if s["areaCode"] not in district_centres:
            continue
        district, dlat, dlng = district_centres[s["areaCode"]]
        named = [p for p in pois if s["name"] in p.address]
        lat, lng = _mean(named) if named else (dlat, dlng)
        street_at[s["code"]] = (lat, lng)
        rows.append(
            PlaceRow("sub_district", s["name"], f"{district}{s['name']}", lat, lng, district)
        )
    for c in communities:
        if c["streetCode"] not in street_at or c["areaCode"] not in district_centres:
            continue
        name = c["name"].removesuffix(COMMUNITY_SUFFIX)
        named = [p for p in pois if name in p.address]
        lat, lng = _mean(named) if named else street_at[c["streetCode"]]
        district = district_centres[c["areaCode"]][0]
        rows.append(PlaceRow("community", name, f"{district}{name}", lat, lng, district))
    on_road: dict[tuple[str, str], list[Poi]] = defaultdict(list)
    for p in pois:
        road = road_of(p.address)
        if road:
            on_road[(road, p.district)].append(p)
        rows.append(
            PlaceRow("place", p.name, p.address, round(p.lat, 6), round(p.lng, 6), p.district)
        )
    for (road, district), points in sorted(on_road.items()):
        lat, lng = _mean(points)
        rows.append(PlaceRow("road", road, f"{district}{road}", lat, lng, district))
    return rows


def write_places(rows: Iterable[PlaceRow], path: Path) -> None:
    """Write ``rows`` as a gazetteer CSV (with the optional ``kind`` column)."""
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["name", "address", "lat", "lng", "district", "kind"])
        for r in rows:
            w.writerow([r.name, r.address, r.lat, r.lng, r.district, r.kind])
