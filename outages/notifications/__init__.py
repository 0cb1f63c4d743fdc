from outages.notifications.services import *  # noqa: F403
