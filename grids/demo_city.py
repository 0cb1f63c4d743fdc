"""The demo city as plain data: a deterministic plan of Shenzhen's grids, network and customers.

Pure Python plus numpy / scipy / shapely, no ORM: ``grids.services.demo`` writes the plan.
Everything derives from one seed, so the same call gives the same city on every machine.

Geography: the ten districts' outlines come from ``grids.geodata``. Sub-district (街道) centres
are synthetic: k-means centres of points spread uniformly over the district, snapped to a sample
point so they are always inside it. Each grid (repair zone) is the Voronoi cell of its
sub-district's centre clipped to the district outline; one small sub-district shares its
neighbour's grid, which gives the ~73 repair stations of the real city.

Network: one 110 kV substation per grid with radial 10 kV feeders. A feeder is a head breaker,
a main line cut into sections by load-break switches, fused laterals off each section and
distribution transformers on the laterals. Normally-open ties join neighbouring feeders of a
grid and neighbouring grids of a district, so each district is one network component.

Customers are generated in fixed-size chunks, each from its own seed, so service point number
``i`` is the same whether the city is built with 500 or 1,000,000 of them; topping up
continues the sequence instead of duplicating it.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import shapely
from scipy.cluster.vq import kmeans2
from scipy.spatial import cKDTree
from shapely.geometry import MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

from grids.address import normalize_address
from grids.geodata import DISTRICTS, SUB_DISTRICTS, DistrictInfo, SubDistrictInfo

SEED = 20260501
CHUNK = 10_000
ACCOUNT_PREFIX = "03"  # 03 + 7-digit sequence + Luhn check digit = 10 digits

URBAN, RURAL, REMOTE = "urban", "rural", "remote"
# The hilly east and north-west: villages and long drives. 南澳 is the far end of the peninsula.
RURAL_SUB_DISTRICTS = frozenset(
    {"马峦街道", "碧岭街道", "石井街道", "玉塘街道", "新湖街道", "葵涌街道", "大鹏街道"}
)
REMOTE_SUB_DISTRICTS = frozenset({"南澳街道"})
# A small sub-district served by its neighbour's station (73 grids for 74 sub-districts).
MERGED_SUB_DISTRICTS = frozenset({"华强北街道"})

SKILLS: list[tuple[str, str]] = [
    ("mv_line", "中压架空线路"),
    ("cable", "电缆"),
    ("lv", "低压"),
    ("transformer", "配电变压器"),
    ("live_work", "带电作业"),
]


def _words(text: str) -> list[str]:
    return text.split()


ROADS: dict[str, list[str]] = {
    "罗湖区": _words(
        "深南东路 人民南路 解放路 建设路 东门中路 宝安南路 文锦中路 爱国路 太宁路 布心路 "
        "笋岗路 宝岗路 翠竹路 太白路 沿河北路 春风路 嘉宾路 和平路 桂园路 红岭中路 松园路 黄贝路 "
        "罗沙路 莲塘路 东晓路 泥岗东路"
    ),
    "福田区": _words(
        "深南中路 深南大道 福华路 福中路 红荔路 莲花路 彩田路 皇岗路 华强北路 华富路 新洲路 "
        "益田路 金田路 滨河大道 北环大道 香蜜湖路 农园路 景田路 上步中路 燕南路 振华路 梅林路 "
        "福强路 沙嘴路 下沙路 石厦北街 八卦路 园岭东路 百花路 侨香路"
    ),
    "南山区": _words(
        "南海大道 深南大道 滨海大道 科技园路 高新南一道 学府路 南山大道 后海大道 桃园路 "
        "南新路 蛇口工业路 望海路 沙河西路 侨城东路 白石路 科苑路 留仙大道 西丽路 东滨路 创业路 "
        "工业八路 兴华路 中心路 龙珠大道"
    ),
    "宝安区": _words(
        "宝安大道 新安六路 创业一路 建安一路 前进一路 宝民一路 西乡大道 航城大道 福永大道 "
        "凤凰大道 沙井路 新沙路 松岗大道 广深路 石岩大道 宏发大道 洲石路 燕罗路 塘尾路 新湖路 "
        "兴业路 宝源路"
    ),
    "龙岗区": _words(
        "龙岗大道 深惠路 龙翔大道 布吉路 布澜路 坂雪岗大道 五和大道 吉华路 平湖大街 "
        "宝龙大道 龙城大道 清林路 黄阁路 沙湾路 爱南路 如意路 红棉路 水官路 坪西路 园山大道 "
        "盛平路 南联路"
    ),
    "大鹏新区": _words(
        "葵涌中心路 金业大道 鹏飞路 迎宾南路 大鹏中心路 南澳海滨路 葵新北路 土洋路 "
        "环城西路 布新路 东涌路 溪涌路"
    ),
    "盐田区": _words(
        "深盐路 海山路 沙头角路 梧桐路 北山道 盐田路 东和路 海景二路 环梅路 盐梅路 洪安路 永安路"
    ),
    "龙华区": _words(
        "人民路 和平路 梅龙大道 民治大道 龙华大道 东环一路 观澜大道 布龙路 华荣路 "
        "大浪南路 工业路 民塘路 新区大道 环观南路 清湖路 油松路"
    ),
    "坪山区": _words(
        "深汕路 坪山大道 东纵路 振环路 金碧路 锦绣中路 翠景路 丹梓大道 龙勤路 秀新路 "
        "宝山路 龙兴南路"
    ),
    "光明区": _words(
        "光明大道 公明大道 华夏路 观光路 松白路 光侨路 东周路 长春路 南环大道 牛山路 塘明路 华裕路"
    ),
}
ESTATE_HEADS = _words(
    "荔枝 华富 景田 百花 碧海 金海 翠湖 桃源 丽山 星海 阳光 幸福 锦绣 东方 宏发 彩虹 怡景 "
    "海滨 碧桂 万象 绿景 金地 中海 华润 天安 宝利 新城 南海 银湖 翠林 嘉华 富通 龙城 紫薇 "
    "雅园 松坪 梅山 鹿丹 泰华 港湾"
)
ESTATE_TAILS = _words("苑 花园 新村 名苑 雅苑 家园 山庄 公寓 小区 城 华庭 豪庭")
TOWER_TAILS = ("大厦", "广场", "中心")
VILLAGES = _words("水头 新屋 上围 下围 老屋 石桥 岭背 围仔 黄竹 坑尾 西坑 东涌 沙岗 禾塘 田心")
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许邓冯韩曹曾彭萧蔡潘田董袁于余叶"
    "蒋杜苏魏程吕丁沈任姚卢钟姜崔谭陆范汪廖石金韦贾夏付方邹熊白孟秦邱侯江尹薛段雷黎史陶"
    "贺毛顾龚邵万覃武钱戴严欧莫孔向常汤康易乔赖文施洪辛柯庄"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉兰海燕文辉晓东"
    "鹏飞俊杰子涵浩然雨欣思远嘉怡梓豪宇轩佳琪欣怡婷婷雪梅春梅永健家明展鸿锦荣振宇"
)
IMPORTANT_KINDS = (
    "人民医院",
    "社区健康服务中心",
    "小学",
    "中学",
    "水质净化厂",
    "派出所",
    "消防站",
    "地铁站",
    "数据中心",
    "养老院",
)
CREW_NUMERALS = "一二三四五六七八九十"


@dataclass
class SubPlan:
    """A sub-district: its centre and cell, and the streets its addresses use."""

    info: SubDistrictInfo
    district: DistrictInfo
    lng: float
    lat: float
    cell: BaseGeometry
    grid_code: str
    area_class: str
    roads: list[str]
    estates: list[str]
    weight: float

    @property
    def short(self) -> str:
        return self.info.name.removesuffix("街道")


@dataclass
class GridPlan:
    """A grid (repair zone) with its station, crews and feeders."""

    code: str
    name: str
    district_code: str
    sub_code: str
    area_class: str
    lng: float
    lat: float
    cell: BaseGeometry
    station: dict[str, object]
    feeder_codes: list[str] = field(default_factory=list)
    # Distribution transformers of the grid's feeders: codes and (lng, lat) rows.
    transformer_codes: list[str] = field(default_factory=list)
    transformer_xy: np.ndarray | None = None


@dataclass
class CityPlan:
    """Every reference row of the demo city, keyed by natural keys (codes)."""

    districts: list[dict[str, object]]
    subs: list[SubPlan]
    grids: list[GridPlan]
    crews: list[dict[str, object]]
    members: list[dict[str, object]]
    substations: list[dict[str, object]]
    feeders: list[dict[str, object]]
    nodes: list[dict[str, object]]
    devices: list[dict[str, object]]
    # Feeder codes per network component (feeders joined by ties).
    components: list[list[str]]
    seed: int = SEED
    _sub_cum_weights: np.ndarray | None = None
    _trees: dict[str, cKDTree] = field(default_factory=dict)


def luhn_digit(digits: str) -> str:
    """The Luhn check digit of ``digits`` (catches a mistyped digit in an account number)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def account_number(index: int) -> str:
    """The demo account number of service point ``index`` (0-based)."""
    body = f"{ACCOUNT_PREFIX}{index:07d}"
    return body + luhn_digit(body)


def account_index(account_no: str) -> int | None:
    """Inverse of ``account_number``; None for an account the demo did not make."""
    if len(account_no) != 10 or not account_no.startswith(ACCOUNT_PREFIX):
        return None
    body = account_no[:-1]
    if not body.isdigit() or luhn_digit(body) != account_no[-1]:
        return None
    return int(body[len(ACCOUNT_PREFIX) :])


def _outline(d: DistrictInfo) -> BaseGeometry:
    polys = [Polygon(ring) for ring in d.outline]
    return polys[0] if len(polys) == 1 else MultiPolygon(polys)


def sample_in(geom: BaseGeometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` uniform random (lng, lat) points inside ``geom`` (rejection sampling, vectorised)."""
    if n <= 0:
        return np.empty((0, 2))
    min_x, min_y, max_x, max_y = geom.bounds
    fill = max(geom.area / ((max_x - min_x) * (max_y - min_y)), 0.05)
    out: list[np.ndarray] = []
    have = 0
    while have < n:
        m = int((n - have) / fill * 1.3) + 16
        xs = rng.uniform(min_x, max_x, m)
        ys = rng.uniform(min_y, max_y, m)
        inside = shapely.contains_xy(geom, xs, ys)
        pts = np.column_stack([xs[inside], ys[inside]])
        out.append(pts)
        have += len(pts)
    return np.concatenate(out)[:n]


def geojson_of(geom: BaseGeometry) -> dict[str, object]:
    """GeoJSON of a polygon or multipolygon, coordinates rounded to about a metre."""

    def ring(coords: object) -> list[list[float]]:
        return [[round(x, 5), round(y, 5)] for x, y in coords]  # type: ignore[attr-defined]

    def poly(p: Polygon) -> list[list[list[float]]]:
        return [ring(p.exterior.coords)] + [ring(r.coords) for r in p.interiors]

    if isinstance(geom, Polygon):
        return {"type": "Polygon", "coordinates": poly(geom)}
    parts = [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon)]
    return {"type": "MultiPolygon", "coordinates": [poly(p) for p in parts]}


def _district_cells(
    d: DistrictInfo, subs: list[SubDistrictInfo], rng: np.random.Generator
) -> list[tuple[float, float, BaseGeometry]]:
    """Centre and Voronoi cell of each sub-district of ``d``, in the order of ``subs``."""
    outline = _outline(d)
    samples = sample_in(outline, 3000, rng)
    k = len(subs)
    centroids, labels = kmeans2(samples, k, minit="++", rng=rng)
    seeds = []
    for c in range(k):
        members = samples[labels == c]
        if len(members) == 0:
            members = samples
        # The cluster member nearest the centroid: inside the outline even for concave shapes.
        seeds.append(members[np.argmin(((members - centroids[c]) ** 2).sum(axis=1))])
    # West to east, so the sub-district codes run across the district the same way each time.
    seeds.sort(key=lambda p: (round(float(p[0]), 6), round(float(p[1]), 6)))
    pts = shapely.MultiPoint([tuple(p) for p in seeds])
    regions = shapely.voronoi_polygons(pts, extend_to=outline.envelope.buffer(0.2))
    out = []
    for p in seeds:
        point = Point(float(p[0]), float(p[1]))
        region = next(g for g in regions.geoms if g.contains(point))
        cell = region.intersection(outline)
        out.append((float(p[0]), float(p[1]), cell))
    return out


def plan_city(
    *, seed: int = SEED, feeders_per_grid: int = 4, crews_per_station: int | None = None
) -> CityPlan:
    """The whole reference data of the demo city (everything but the service points)."""
    rng = np.random.default_rng(seed)
    districts = []
    subs: list[SubPlan] = []
    for d in DISTRICTS:
        outline = _outline(d)
        districts.append(
            {
                "code": d.code,
                "name": d.name,
                "name_en": d.name_en,
                "center_lat": d.center_lat,
                "center_lng": d.center_lng,
                "boundary": geojson_of(outline),
            }
        )
        mine = [s for s in SUB_DISTRICTS if s.district_code == d.code]
        for info, (lng, lat, cell) in zip(mine, _district_cells(d, mine, rng), strict=True):
            prng = random.Random(f"{seed}:{info.code}")
            area = (
                REMOTE
                if info.name in REMOTE_SUB_DISTRICTS
                else RURAL
                if info.name in RURAL_SUB_DISTRICTS
                else URBAN
            )
            roads = prng.sample(ROADS[d.name], k=min(8, len(ROADS[d.name])))
            estates = [prng.choice(ESTATE_HEADS) + prng.choice(ESTATE_TAILS) for _ in range(16)]
            weight = {URBAN: 1.0, RURAL: 0.35, REMOTE: 0.15}[area]
            subs.append(
                SubPlan(
                    info, d, lng, lat, cell, "", area, roads, list(dict.fromkeys(estates)), weight
                )  # fmt: skip
            )
    grids = _plan_grids(subs)
    plan = CityPlan(
        districts=districts,
        subs=subs,
        grids=grids,
        crews=[],
        members=[],
        substations=[],
        feeders=[],
        nodes=[],
        devices=[],
        components=[],
        seed=seed,
    )
    _plan_crews(plan, seed, crews_per_station)
    _plan_network(plan, seed, feeders_per_grid)
    return plan


def _plan_grids(subs: list[SubPlan]) -> list[GridPlan]:
    by_code = {s.info.code: s for s in subs}
    host: dict[str, str] = {}
    for s in subs:
        if s.info.name in MERGED_SUB_DISTRICTS:
            others = [o for o in subs if o.district is s.district and o is not s]
            near = min(others, key=lambda o: (o.lng - s.lng) ** 2 + (o.lat - s.lat) ** 2)
            host[s.info.code] = near.info.code
    grids = []
    for s in subs:
        if s.info.code in host:
            continue
        cell = s.cell
        for guest, h in host.items():
            if h == s.info.code:
                cell = cell.union(by_code[guest].cell)
        code = f"G{s.info.code}"
        road = s.roads[0]
        grids.append(
            GridPlan(
                code=code,
                name=f"{s.short}供电网格",
                district_code=s.district.code,
                sub_code=s.info.code,
                area_class=s.area_class,
                lng=s.lng,
                lat=s.lat,
                cell=cell,
                station={
                    "code": f"ST{s.info.code}",
                    "name": f"{s.short}供电服务站",
                    "address": f"深圳市{s.district.name}{s.info.name}{road}"
                    f"{int(s.info.code[-3:]) * 7 + 1}号",
                    "phone": f"0755-8{int(s.info.code) % 9_000_000 + 1_000_000:07d}",
                    "lat": round(s.lat, 6),
                    "lng": round(s.lng, 6),
                },
            )
        )
    for s in subs:
        s.grid_code = f"G{host.get(s.info.code, s.info.code)}"
    return grids


def _person(prng: random.Random) -> str:
    given = prng.choice(GIVEN) + (prng.choice(GIVEN) if prng.random() < 0.7 else "")
    return prng.choice(SURNAMES) + given


def _mobile(prng: random.Random) -> str:
    return "1" + prng.choice("3578") + "".join(prng.choices("0123456789", k=9))


def _plan_crews(plan: CityPlan, seed: int, crews_per_station: int | None) -> None:
    skill_codes = [code for code, _ in SKILLS]
    for g in plan.grids:
        prng = random.Random(f"{seed}:crews:{g.code}")
        n = crews_per_station if crews_per_station is not None else prng.randint(8, 11)
        short = g.name.removesuffix("供电网格")
        for i in range(1, n + 1):
            code = f"CR{g.sub_code}-{i:02d}"
            # Every station has every skill somewhere: crew i always has skill i mod 5.
            skills = {skill_codes[(i - 1) % len(skill_codes)], "lv"}
            skills.update(prng.sample(skill_codes, k=prng.randint(0, 2)))
            num = CREW_NUMERALS[i - 1] if i <= 10 else str(i)
            plan.crews.append(
                {
                    "code": code,
                    "name": f"{short}抢修{num}班",
                    "station": g.station["code"],
                    "capacity": prng.randint(2, 4),
                    "vehicle_plate": "粤B" + prng.choice("DF") + f"{prng.randint(0, 99999):05d}",
                    "last_lat": round(g.lat + prng.gauss(0, 0.004), 6),
                    "last_lng": round(g.lng + prng.gauss(0, 0.004), 6),
                    "skills": sorted(skills),
                }
            )
            for m in range(prng.randint(2, 4)):
                plan.members.append(
                    {
                        "crew": code,
                        "name": _person(prng),
                        "phone": _mobile(prng),
                        "is_leader": m == 0,
                    }
                )


def _plan_network(plan: CityPlan, seed: int, feeders_per_grid: int) -> None:
    """Substations, feeders, nodes and devices; ties inside grids and between neighbours."""
    rng = np.random.default_rng(seed + 1)
    last_main: dict[str, str] = {}  # feeder code -> its last main-line node
    feeder_grid: dict[str, str] = {}
    ties: list[tuple[str, str]] = []
    for g in plan.grids:
        prng = random.Random(f"{seed}:net:{g.code}")
        short = g.name.removesuffix("供电网格")
        ss_code = f"SS{g.sub_code}"
        ss_xy = sample_in(g.cell, 1, rng)[0]
        plan.substations.append(
            {
                "code": ss_code,
                "name": f"110kV{short}站",
                "district": g.district_code,
                "lat": round(float(ss_xy[1]), 6),
                "lng": round(float(ss_xy[0]), 6),
            }
        )
        bus = f"{ss_code}-BUS"
        plan.nodes.append(
            {"code": bus, "is_source": True, "lat": float(ss_xy[1]), "lng": float(ss_xy[0])}
        )
        sizes = [prng.randint(10, 24) for _ in range(feeders_per_grid)]
        pts = sample_in(g.cell, sum(sizes), rng)
        # Each feeder takes one angular sector around the substation, as real feeders fan out.
        angles = np.arctan2(pts[:, 1] - ss_xy[1], pts[:, 0] - ss_xy[0])
        pts = pts[np.argsort(angles, kind="stable")]
        tx_codes: list[str] = []
        tx_xy: list[np.ndarray] = []
        start = 0
        for f_idx, size in enumerate(sizes, start=1):
            f_pts = pts[start : start + size]
            start += size
            dist = ((f_pts - ss_xy) ** 2).sum(axis=1)
            f_pts = f_pts[np.argsort(dist, kind="stable")]
            code = f"{g.sub_code}-F{f_idx}"
            fname = f"10kV{short}{f_idx:02d}线"
            plan.feeders.append({"code": code, "name": fname, "substation": ss_code})
            plan.components.append([code])
            feeder_grid[code] = g.code
            mains = _plan_feeder(plan, prng, code, fname, bus, f_pts, tx_codes, tx_xy)
            last_main[code] = mains[-1]
        g.feeder_codes = [f"{g.sub_code}-F{i}" for i in range(1, feeders_per_grid + 1)]
        g.transformer_codes = tx_codes
        g.transformer_xy = np.array(tx_xy)
        ties += list(zip(g.feeder_codes, g.feeder_codes[1:], strict=False))
    # Neighbouring grids of one district: tie the last feeder of one to the first of the next.
    for i, a in enumerate(plan.grids):
        for b in plan.grids[i + 1 :]:
            if a.district_code == b.district_code and a.cell.distance(b.cell) < 1e-6:
                ties.append((a.feeder_codes[-1], b.feeder_codes[0]))
    for fa, fb in ties:
        plan.devices.append(
            {
                "code": f"{fa}-TIE-{fb}",
                "name": f"{fa}/{fb}联络开关",
                "kind": "load_break_switch",
                "feeder": fa,
                "node_a": last_main[fa],
                "node_b": last_main[fb],
                "normally_open": True,
                "is_open": True,
            }
        )
    plan.components = _components([str(f["code"]) for f in plan.feeders], ties)


def _plan_feeder(
    plan: CityPlan,
    prng: random.Random,
    code: str,
    fname: str,
    bus: str,
    pts: np.ndarray,
    tx_codes: list[str],
    tx_xy: list[np.ndarray],
) -> list[str]:
    """One radial feeder; returns its main-line node codes from the head outward."""
    n_sections = max(2, math.ceil(len(pts) / 7))
    bounds = np.linspace(0, len(pts), n_sections + 1).astype(int)
    mains: list[str] = []
    tx_no = 0
    for s in range(n_sections):
        sec = pts[bounds[s] : bounds[s + 1]]
        main = f"{code}-M{s}"
        x, y = (float(v) for v in sec[0])
        plan.nodes.append({"code": main, "is_source": False, "lat": y, "lng": x})
        upstream = bus if s == 0 else mains[-1]
        plan.devices.append(
            {
                "code": f"{code}-CB" if s == 0 else f"{code}-S{s}",
                "name": f"{fname}出线开关" if s == 0 else f"{fname}{s}号分段开关",
                "kind": "breaker" if s == 0 else "load_break_switch",
                "feeder": code,
                "node_a": upstream,
                "node_b": main,
                "lat": y,
                "lng": x,
            }
        )
        mains.append(main)
        j = 0
        i = 0
        while i < len(sec):
            take = prng.randint(2, 5)
            lateral = sec[i : i + take]
            i += take
            j += 1
            lat_node = f"{code}-L{s}-{j}"
            lx, ly = (float(v) for v in lateral[0])
            plan.nodes.append({"code": lat_node, "is_source": False, "lat": ly, "lng": lx})
            plan.devices.append(
                {
                    "code": f"{code}-FU{s}-{j}",
                    "name": f"{fname}{s}段{j}号支线熔断器",
                    "kind": "fuse",
                    "feeder": code,
                    "node_a": main,
                    "node_b": lat_node,
                    "lat": ly,
                    "lng": lx,
                }
            )
            for p in lateral:
                tx_no += 1
                tx_code = f"{code}-T{tx_no:02d}"
                px, py = float(p[0]), float(p[1])
                lv = f"{tx_code}-LV"
                plan.nodes.append({"code": lv, "is_source": False, "lat": py, "lng": px})
                plan.devices.append(
                    {
                        "code": tx_code,
                        "name": f"{fname}#{tx_no:02d}配变",
                        "kind": "transformer",
                        "feeder": code,
                        "node_a": lat_node,
                        "node_b": lv,
                        "rating_kva": float(prng.choice((315, 400, 500, 630, 800))),
                        "lat": py,
                        "lng": px,
                    }
                )
                tx_codes.append(tx_code)
                tx_xy.append(p)
    return mains


def _components(feeders: list[str], ties: list[tuple[str, str]]) -> list[list[str]]:
    parent = {f: f for f in feeders}

    def find(f: str) -> str:
        while parent[f] != f:
            parent[f] = parent[parent[f]]
            f = parent[f]
        return f

    for a, b in ties:
        parent[find(a)] = find(b)
    groups: dict[str, list[str]] = {}
    for f in feeders:
        groups.setdefault(find(f), []).append(f)
    return list(groups.values())


@dataclass(frozen=True, slots=True)
class ServicePointRow:
    """One generated customer; references are codes, resolved to keys by the writer."""

    index: int
    account_no: str
    customer_name: str
    phone: str
    address: str
    address_norm: str
    lat: float
    lng: float
    transformer: str
    grid: str
    district: str
    sub_district: str
    area_class: str
    is_important: bool


def service_point_rows(plan: CityPlan, start: int, stop: int) -> Iterator[list[ServicePointRow]]:
    """Customers number ``start`` to ``stop - 1``, one list per chunk they fall in.

    Chunk ``c`` holds customers ``c * CHUNK`` to ``(c + 1) * CHUNK - 1`` and is drawn from its
    own seed, so a customer does not depend on how many were asked for.
    """
    if plan._sub_cum_weights is None:
        w = np.array([s.weight for s in plan.subs])
        plan._sub_cum_weights = np.cumsum(w / w.sum())
    grids = {g.code: g for g in plan.grids}
    for chunk in range(start // CHUNK, (stop - 1) // CHUNK + 1 if stop > start else 0):
        lo, hi = max(start, chunk * CHUNK), min(stop, (chunk + 1) * CHUNK)
        rng = np.random.default_rng([plan.seed, 7, chunk])
        prng = random.Random(f"{plan.seed}:sp:{chunk}")
        which = np.searchsorted(plan._sub_cum_weights, rng.random(CHUNK), side="right")
        which = np.minimum(which, len(plan.subs) - 1)
        xy = np.empty((CHUNK, 2))
        tx_of = np.empty(CHUNK, dtype=np.int64)
        for si in np.unique(which):
            sel = np.nonzero(which == si)[0]
            sub = plan.subs[si]
            xy[sel] = sample_in(sub.cell, len(sel), rng)
            grid = grids[sub.grid_code]
            tree = plan._trees.get(grid.code)
            if tree is None:
                tree = plan._trees[grid.code] = cKDTree(grid.transformer_xy)
            tx_of[sel] = tree.query(xy[sel])[1]
        rows = []
        # Customer k's draws depend only on customers before it in the chunk, so every one up
        # to ``hi`` is drawn even when only the tail of the chunk is written.
        for k in range(hi - chunk * CHUNK):
            idx = chunk * CHUNK + k
            sub = plan.subs[int(which[k])]
            name = _person(prng)
            phone = _mobile(prng)
            important = prng.random() < 0.01
            addr_tail = _address_tail(prng, sub)
            if important:
                name = sub.short + prng.choice(IMPORTANT_KINDS)
            if idx < lo:
                continue
            grid = grids[sub.grid_code]
            address = f"深圳市{sub.district.name}{sub.info.name}{addr_tail}"
            rows.append(
                ServicePointRow(
                    index=idx,
                    account_no=account_number(idx),
                    customer_name=name,
                    phone=phone,
                    address=address,
                    address_norm=normalize_address(address),
                    lat=round(float(xy[k, 1]), 6),
                    lng=round(float(xy[k, 0]), 6),
                    transformer=grid.transformer_codes[int(tx_of[k])],
                    grid=grid.code,
                    district=sub.district.code,
                    sub_district=sub.info.code,
                    area_class=sub.area_class,
                    is_important=important,
                )
            )
        yield rows


def _address_tail(prng: random.Random, sub: SubPlan) -> str:
    """Road, number and premises: an estate flat, an office tower or a village house."""
    kind = prng.random()
    road = prng.choice(sub.roads)
    number = prng.randint(1, 2400)
    if sub.area_class != URBAN and kind < 0.4:
        village = prng.choice(VILLAGES)
        return f"{village}村{prng.randint(1, 12)}巷{prng.randint(1, 60)}号"
    estate = prng.choice(sub.estates)
    room = f"{prng.randint(1, 33)}{prng.randint(1, 8):02d}"
    if kind > 0.85:
        tower = estate[:2] + prng.choice(TOWER_TAILS)
        return f"{road}{number}号{tower}{prng.choice('ABCD')}座{room}"
    return f"{road}{number}号{estate}{prng.randint(1, 30)}栋{room}"
