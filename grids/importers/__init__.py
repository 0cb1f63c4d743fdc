"""Network importers: read a network export and plan the rows of our model. No ORM here.

``read_opendss_csv`` / ``read_simbench`` turn files into a ``RawNetwork``; ``plan_network``
contracts, orients and labels it into a ``NetworkPlan``; ``grids.services.network_import``
writes the plan. Each module's docstring lists its modelling choices.
"""

import re
from pathlib import Path

from .opendss import read_opendss_csv
from .placement import Placement, city_bbox, find_district, fit_to_bbox
from .plan import NetworkPlan, PlanError, RawNetwork, plan_network
from .simbench import read_simbench
from .tables import NetworkFileError

PREFIX_MAX_LENGTH = 13

__all__ = [
    "PREFIX_MAX_LENGTH",
    "NetworkFileError",
    "NetworkPlan",
    "Placement",
    "PlanError",
    "RawNetwork",
    "city_bbox",
    "default_prefix",
    "find_district",
    "fit_to_bbox",
    "plan_network",
    "read_opendss_csv",
    "read_simbench",
]


def default_prefix(directory: Path) -> str:
    """A code prefix from the directory name (``ieee8500/derived_csv`` gives ``ieee8500``)."""
    path = directory.resolve()
    name = path.parent.name if path.name.lower() == "derived_csv" else path.name
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:PREFIX_MAX_LENGTH].strip("-") or "net"
