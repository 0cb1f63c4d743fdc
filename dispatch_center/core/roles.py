"""The roles of the application, as Django groups (created by a migration of ``core``)."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

DISPATCHER = "dispatcher"
HOTLINE_AGENT = "hotline_agent"
CREW_MEMBER = "crew_member"
SUPERVISOR = "supervisor"
SCADA_GATEWAY = "scada_gateway"

ALL_ROLES = (DISPATCHER, HOTLINE_AGENT, CREW_MEMBER, SUPERVISOR, SCADA_GATEWAY)


def has_role(user: AbstractBaseUser | AnonymousUser, *roles: str) -> bool:
    """True when ``user`` is active and is a superuser or in one of ``roles``."""
    if not user.is_authenticated or not user.is_active:
        return False
    if getattr(user, "is_superuser", False):
        return True
    names = getattr(user, "_role_names", None)
    if names is None:
        names = set(user.groups.values_list("name", flat=True))  # type: ignore[union-attr,attr-defined]
        user._role_names = names  # type: ignore[union-attr,attr-defined]
    return bool(names.intersection(roles))
