"""Moved to ``dispatch_center.core.roles``; this name stays for code not yet updated."""

from dispatch_center.core.roles import *  # noqa: F403
