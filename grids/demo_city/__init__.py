"""The demo city as plain data: a deterministic plan of Shenzhen's grids, network and customers.

Pure Python plus numpy / scipy / shapely, no ORM: ``grids.services.demo`` writes the plan.
Everything derives from one seed, so the same call gives the same city on every machine.

Geography: the ten districts' outlines come from ``grids.geodata``. Sub-district (街道) centres
are synthetic: k-means centres of points spread uniformly over the district, snapped to a sample
point so they are always inside it. Each grid (repair zone) is the Voronoi cell of its
sub-district's centre clipped to the district outline; one small sub-district shares its
neighbour's grid, which gives the ~73 repair stations of the real city. Islands (内伶仃岛) get
no cell, and customers stay about 600 m inside the simplified outline, so each lies inside
its district's real boundary, on land.

Network: one 110 kV substation per grid with radial 10 kV feeders. A feeder is a head breaker,
a main line cut into sections by load-break switches, fused laterals off each section and
distribution transformers on the laterals. Normally-open ties join neighbouring feeders of a
grid and neighbouring grids of a district, so each district is one network component.

Customers are generated in fixed-size chunks, each from its own seed, so service point number
``i`` is the same whether the city is built with 500 or 1,000,000 of them; topping up
continues the sequence instead of duplicating it.

Where things live: ``plan`` (constants and the plan's dataclasses), ``city`` (``plan_city``:
sub-districts, grids, stations, crews), ``network`` (substations, feeders, ties), ``customers``
(``service_point_rows``), ``places`` (the gazetteer: sub-districts, roads, estates),
``geometry``, ``accounts`` and ``vocabulary``. Import from here.
"""

from grids.demo_city.accounts import ACCOUNT_PREFIX, account_index, account_number, luhn_digit
from grids.demo_city.city import plan_city
from grids.demo_city.customers import ServicePointRow, service_point_rows
from grids.demo_city.geometry import district_outline, geojson_of, sample_in
from grids.demo_city.places import place_rows
from grids.demo_city.plan import CHUNK, SEED, CityPlan, GridPlan, SubPlan
from grids.demo_city.vocabulary import SKILLS

# The outline of a district as one (multi)polygon (older name, kept for callers).
_outline = district_outline

__all__ = [
    "ACCOUNT_PREFIX",
    "CHUNK",
    "SEED",
    "SKILLS",
    "CityPlan",
    "GridPlan",
    "ServicePointRow",
    "SubPlan",
    "account_index",
    "account_number",
    "district_outline",
    "geojson_of",
    "luhn_digit",
    "place_rows",
    "plan_city",
    "sample_in",
    "service_point_rows",
]
