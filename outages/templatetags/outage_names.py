"""Template filters of the outages pages: reference rows named in the active language."""

from typing import Any

from django import template

from dispatch_center.core.i18n import local_name

register = template.Library()


@register.filter
def localname(obj: Any) -> str:
    """``obj.name_en`` when the page is English and it has one, else ``obj.name`` ("" for
    None). For taxonomy rows (outage types, causes) and districts, which carry both names."""
    return local_name(obj)
