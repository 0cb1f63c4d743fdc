"""DRF permissions built on the application's roles (``dispatch_center.core.roles``).

Use ``HasRole`` after ``IsAuthenticated`` so an anonymous caller is told to log in (401/403
``not_authenticated``) and a logged-in user without the role gets 403 ``permission_denied``::

    permission_classes = [IsAuthenticated, HasRole(roles.DISPATCHER, roles.SUPERVISOR)]
"""

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from dispatch_center.core import roles

# Office staff who may look customers up: the console, the hotline seats and their supervisors.
STAFF_ROLES: tuple[str, ...] = (roles.DISPATCHER, roles.HOTLINE_AGENT, roles.SUPERVISOR)


def HasRole(*role_names: str) -> type[BasePermission]:  # noqa: N802 - used like a class
    """A permission class granting access to active superusers and members of ``role_names``."""
    if not role_names:
        raise ValueError("HasRole needs at least one role")
    unknown = set(role_names) - set(roles.ALL_ROLES)
    if unknown:
        raise ValueError(f"Unknown roles: {sorted(unknown)}")

    class _HasRole(BasePermission):
        message = _("您没有执行此操作的权限。")
        allowed = role_names

        def has_permission(self, request: Request, view: Any) -> bool:
            return roles.has_role(request.user, *self.allowed)

    _HasRole.__name__ = _HasRole.__qualname__ = "HasRole_" + "_".join(role_names)
    return _HasRole


IsStaffRole = HasRole(*STAFF_ROLES)
