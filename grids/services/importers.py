"""Writing an imported network: substation, feeders, nodes, devices and service points.

The readers and the planner (``grids.importers``) do all the parsing and validation in memory
first, so a malformed file fails before anything is written; ``network_import`` then writes
the whole plan in one transaction with bulk inserts and materialises the supply tree.

Re-importing: a prefix names one import. Importing again with a prefix already in the database
is refused with a ``Conflict`` (we chose a clear error over an idempotent merge: a merge would
have to decide what to do with devices an operator has switched or service points that have
outage history since the first import).
"""

import hashlib
import re
import time
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count
from django.utils.translation import gettext as _

from dispatch_center.core.exceptions import Conflict, DomainError
from grids.address import normalize_address
from grids.importers import (
    PREFIX_MAX_LENGTH,
    NetworkPlan,
    Placement,
    city_bbox,
    find_district,
    fit_to_bbox,
)
from grids.importers.plan import KIND_TRANSFORMER
from grids.models import Device, District, Feeder, Node, ServicePoint, Substation

from .network import topology_rebuild

PREFIX_PATTERN = re.compile(rf"^[A-Za-z0-9][A-Za-z0-9_.-]{{0,{PREFIX_MAX_LENGTH - 1}}}$")
BATCH_SIZE = 2000
# Columns checked by the database, or by a query per row if full_clean checked them: foreign
# keys (ForeignKey.validate runs an EXISTS per row), uniqueness and check constraints.
_FK_FIELDS = {
    Device: ["feeder", "node_a", "node_b", "fed_from", "source"],
    ServicePoint: ["transformer", "grid", "district", "sub_district"],
}


@dataclass
class NetworkImportResult:
    """What an import wrote, for the command's summary."""

    substation: Substation
    feeders: int
    nodes: int
    devices_by_kind: dict[str, int]
    normally_open: int
    service_points: int
    transformers: int
    energised_transformers: int
    seconds: float
    notes: list[str] = field(default_factory=list)


def district_ensure(*, name: str) -> District:
    """The ``District`` row for ``name`` (Chinese, short Chinese, English or code).

    Created from ``grids.geodata`` when the reference data has not been loaded yet; an
    existing row (matched by code) is used as it is.
    """
    info = find_district(name)
    if info is None:
        raise DomainError(
            _("未知的行政区 '%(name)s'。") % {"name": name},
            code="unknown_district",
            fields={"district": [_("深圳市的一个区，例如 福田区 或 Futian。")]},
        )
    rings = list(info.outline)
    boundary = (
        {"type": "Polygon", "coordinates": [rings[0]]}
        if len(rings) == 1
        else {"type": "MultiPolygon", "coordinates": [[r] for r in rings]}
    )
    district, _created = District.objects.get_or_create(
        code=info.code,
        defaults={
            "name": info.name,
            "name_en": info.name_en,
            "center_lat": info.center_lat,
            "center_lng": info.center_lng,
            "boundary": boundary,
        },
    )
    return district


def _check_prefix(prefix: str) -> None:
    if not PREFIX_PATTERN.match(prefix):
        raise DomainError(
            _("代码前缀 '%(prefix)s' 无效：1–%(n)s 个字母、数字、'_'、'.' 或 '-'。")
            % {"prefix": prefix, "n": PREFIX_MAX_LENGTH},
            code="invalid_prefix",
        )
    scoped = f"{prefix}:"
    taken = (
        Substation.objects.filter(code=prefix).exists()
        or Feeder.objects.filter(code__startswith=scoped).exists()
        or Node.objects.filter(code__startswith=scoped).exists()
        or Device.objects.filter(code__startswith=scoped).exists()
        or ServicePoint.objects.filter(account_no__regex=rf"^{re.escape(prefix)}-[0-9]+$").exists()
    )
    if taken:
        raise Conflict(
            _("代码前缀 '%(prefix)s' 已有导入的数据；请用 --prefix 另选一个前缀。")
            % {"prefix": prefix},
            code="prefix_taken",
        )


def _code(prefix: str, key: str, max_length: int) -> str:
    """``prefix:key``, shortened with a stable hash when the column is too narrow."""
    code = f"{prefix}:{key}"
    if len(code) <= max_length:
        return code
    digest = hashlib.sha1(code.encode(), usedforsecurity=False).hexdigest()[:8]
    return f"{code[: max_length - 9]}~{digest}"


def _placement(plan: NetworkPlan, district: District | None) -> Placement:
    if district is not None:
        info = find_district(district.code)
        assert info is not None
        return fit_to_bbox(plan.points(), info.bbox, geographic=plan.geographic)
    if plan.geographic:
        return Placement.identity()
    # Local x/y (feet, schematic units) is no place on Earth: spread it over the city.
    return fit_to_bbox(plan.points(), city_bbox(), geographic=False)


@transaction.atomic
def network_import(
    *,
    plan: NetworkPlan,
    prefix: str,
    substation_name: str | None = None,
    district_name: str | None = None,
) -> NetworkImportResult:
    """Write ``plan`` under the code prefix ``prefix`` and rebuild its supply tree.

    All or nothing: one transaction. Codes are ``<prefix>:<source id>``; account numbers
    ``<prefix>-<serial>``; customer names ``用户<load id>``. Raises ``Conflict`` when the prefix
    is taken and ``DomainError`` for an unknown district or an invalid prefix.
    """
    started = time.perf_counter()
    _check_prefix(prefix)
    district = district_ensure(name=district_name) if district_name else None
    place = _LatLng(_placement(plan, district))

    substation = _write_substation(plan, prefix, substation_name, district, place)
    feeder_ids = _write_feeders(plan, prefix, substation)
    node_ids = _write_nodes(plan, prefix, place)
    devices = _write_devices(plan, prefix, place, feeder_ids, node_ids)
    n_service_points = _write_service_points(plan, prefix, place, substation, district, devices)

    topology_rebuild(feeder_ids=list(feeder_ids.values()))

    mine = Device.objects.filter(feeder__substation=substation)
    by_kind = dict(mine.order_by().values_list("kind").annotate(n=Count("pk")))
    return NetworkImportResult(
        substation=substation,
        feeders=len(feeder_ids),
        nodes=len(node_ids),
        devices_by_kind=by_kind,
        normally_open=mine.filter(normally_open=True).count(),
        service_points=n_service_points,
        transformers=mine.filter(kind=KIND_TRANSFORMER).count(),
        energised_transformers=mine.filter(kind=KIND_TRANSFORMER, energized=True).count(),
        seconds=time.perf_counter() - started,
        notes=list(plan.notes),
    )


class _LatLng:
    """The placement as rounded (lat, lng), or (None, None) for an item without x/y."""

    def __init__(self, place: Placement) -> None:
        self.place = place

    def __call__(self, x: float | None, y: float | None) -> tuple[float | None, float | None]:
        if x is None or y is None:
            return (None, None)
        lng, lat = self.place.lng_lat(x, y)
        return (round(lat, 7), round(lng, 7))


def _write_substation(
    plan: NetworkPlan,
    prefix: str,
    substation_name: str | None,
    district: District | None,
    lat_lng: _LatLng,
) -> Substation:
    source_node = next(n for n in plan.nodes if n.is_source)
    sub_lat, sub_lng = lat_lng(source_node.x, source_node.y)
    substation = Substation(
        code=prefix,
        name=(substation_name or _("%(prefix)s变电站") % {"prefix": prefix})[:64],
        district=district,
        voltage_kv=plan.substation_kv or 110,
        lat=sub_lat,
        lng=sub_lng,
    )
    substation.full_clean()
    substation.save()
    return substation


def _write_feeders(plan: NetworkPlan, prefix: str, substation: Substation) -> dict[str, int]:
    """The feeders; ``{label: feeder id}``."""
    feeders = [
        Feeder(
            code=_code(prefix, f.label, 64),
            name=f.label[:64],
            substation=substation,
            voltage_kv=plan.feeder_kv or 10,
        )
        for f in plan.feeders
    ]
    for feeder in feeders:
        feeder.full_clean(exclude=["substation"], validate_unique=False)
    Feeder.objects.bulk_create(feeders, batch_size=BATCH_SIZE)
    return {f.label: obj.pk for f, obj in zip(plan.feeders, feeders, strict=True)}


def _write_nodes(plan: NetworkPlan, prefix: str, lat_lng: _LatLng) -> dict[str, int]:
    """The nodes; ``{plan key: node id}``."""
    nodes = []
    for n in plan.nodes:
        lat, lng = lat_lng(n.x, n.y)
        nodes.append(Node(code=_code(prefix, n.key, 96), is_source=n.is_source, lat=lat, lng=lng))
    for node in nodes:
        node.full_clean(validate_unique=False)
    Node.objects.bulk_create(nodes, batch_size=BATCH_SIZE)
    return {n.key: obj.pk for n, obj in zip(plan.nodes, nodes, strict=True)}


def _write_devices(
    plan: NetworkPlan,
    prefix: str,
    lat_lng: _LatLng,
    feeder_ids: dict[str, int],
    node_ids: dict[str, int],
) -> dict[str, Device]:
    """The devices; ``{plan key: device}``."""
    devices = []
    for d in plan.devices:
        lat, lng = lat_lng(d.x, d.y)
        devices.append(
            Device(
                code=_code(prefix, d.key, 96),
                name=d.key[:96],
                kind=d.kind,
                feeder_id=feeder_ids[d.feeder],
                node_a_id=node_ids[d.node_a],
                node_b_id=node_ids[d.node_b],
                normally_open=d.normally_open,
                is_open=d.is_open,
                rating_kva=d.rating_kva,
                lat=lat,
                lng=lng,
            )
        )
    for device in devices:
        # Constraints (distinct nodes, unswitchable transformers) are checked by the database.
        device.full_clean(
            exclude=_FK_FIELDS[Device], validate_unique=False, validate_constraints=False
        )
    Device.objects.bulk_create(devices, batch_size=BATCH_SIZE)
    return {d.key: obj for d, obj in zip(plan.devices, devices, strict=True)}


def _write_service_points(
    plan: NetworkPlan,
    prefix: str,
    lat_lng: _LatLng,
    substation: Substation,
    district: District | None,
    devices: dict[str, Device],
) -> int:
    """The service points, at their own place, else their transformer's, else the
    substation's, else the placement's origin; returns how many."""
    width = max(6, len(str(len(plan.service_points))))
    area = f"{district.name}" if district else ""
    city = "深圳市" if district else ""
    service_points = []
    for i, sp in enumerate(plan.service_points, start=1):
        lat, lng = lat_lng(sp.x, sp.y)
        if lat is None or lng is None:
            transformer = devices[sp.transformer]
            lat, lng = transformer.lat, transformer.lng
        if lat is None or lng is None:
            lat, lng = substation.lat, substation.lng
        if lat is None or lng is None:
            lng, lat = lat_lng.place.lng_lat(0.0, 0.0)
        address = f"{city}{area}{substation.name}供区{sp.load_id}号"[:200]
        service_points.append(
            ServicePoint(
                account_no=f"{prefix}-{i:0{width}d}",
                customer_name=f"用户{sp.load_id}"[:64],
                address=address,
                address_norm=normalize_address(address)[:200],
                lat=lat,
                lng=lng,
                transformer_id=devices[sp.transformer].pk,
                district=district,
            )
        )
    for point in service_points:
        point.full_clean(
            exclude=_FK_FIELDS[ServicePoint], validate_unique=False, validate_constraints=False
        )
    ServicePoint.objects.bulk_create(service_points, batch_size=BATCH_SIZE)
    return len(service_points)


__all__ = [
    "NetworkImportResult",
    "district_ensure",
    "network_import",
]
