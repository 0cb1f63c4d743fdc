"""Reads of the work-orders app (being split by concern; see ``orders``)."""

from .orders import *  # noqa: F403
