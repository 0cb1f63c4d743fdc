"""The page's language and reference rows named in it.

Reference rows (districts, outage types, causes) carry a Chinese ``name`` and an optional
``name_en``; English pages show ``name_en`` when there is one. The ``localname`` template
filter and every view, selector and serializer choose through these helpers.
"""

from typing import Any

from django.utils.translation import get_language


def is_english() -> bool:
    """True when the active language is English (any ``en-*``)."""
    return (get_language() or "").startswith("en")


def pick_name(name: str, name_en: str | None = "") -> str:
    """``name_en`` on an English page when it is set, else ``name``."""
    return name_en if name_en and is_english() else name


def local_name(obj: Any) -> str:
    """``obj`` named in the active language ("" for None; ``str(obj)`` without a name)."""
    if obj is None:
        return ""
    return str(pick_name(getattr(obj, "name", obj), getattr(obj, "name_en", "")))
