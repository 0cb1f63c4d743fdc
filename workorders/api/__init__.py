"""REST endpoints of the work-orders app (being split by audience; see ``console``)."""

from .console import *  # noqa: F403
