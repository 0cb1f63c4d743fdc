"""Who may call the work-order endpoints, and who is asking."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.utils.translation import gettext as _
from rest_framework.request import Request

from dispatch_center.core import roles
from dispatch_center.core.exceptions import PermissionDenied
from dispatch_center.core.permissions import HasRole
from grids.models import Crew
from workorders import selectors

READ_ROLES = (roles.DISPATCHER, roles.SUPERVISOR, roles.HOTLINE_AGENT)
WRITE_ROLES = (roles.DISPATCHER, roles.SUPERVISOR)
CanReadOrders = HasRole(*READ_ROLES)
CanWriteOrders = HasRole(*WRITE_ROLES)
IsCrewRole = HasRole(roles.CREW_MEMBER)


def request_actor(request: Request) -> User:
    """The authenticated user (the permission classes let no anonymous request through)."""
    return request.user  # type: ignore[return-value]


def request_crew(request: Request) -> Crew:
    """The crew of the crew member asking (403 ``not_a_crew_member`` without one)."""
    crew = selectors.crew_for_user(request.user)
    if crew is None:
        raise PermissionDenied(_("您不是抢修班组成员。"), code="not_a_crew_member")
    return crew
