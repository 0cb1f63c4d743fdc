from outages.models.outages import *  # noqa: F403
