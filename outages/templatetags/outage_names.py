"""Template filters of the outages pages: reference rows named in the active language."""

from typing import Any

from django import template
from django.utils.translation import get_language

register = template.Library()


@register.filter
def localname(obj: Any) -> str:
    """``obj.name_en`` when the page is English and it has one, else ``obj.name`` ("" for
    None). For taxonomy rows (outage types, causes) and districts, which carry both names."""
    if obj is None:
        return ""
    english = (get_language() or "").startswith("en")
    name_en = getattr(obj, "name_en", "")
    return str(name_en if english and name_en else getattr(obj, "name", obj))
