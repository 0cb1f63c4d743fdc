"""Labels the console shows, in the active language.

The console's choice labels (statuses, kinds, deadline states, crew states, priorities,
dispatch reasons) come from the models' translated choices; those that the shared catalogue
leaves untranslated have the console's own entry under the context ``console label``, so
the console never shows a Chinese label on an English page and the shared entries stay as
they are.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import pgettext

CONTEXT = "console label"


def console_label(value: Any) -> str:
    """``value`` (a lazy translation or a source string) in the active language."""
    text = str(value)
    return pgettext(CONTEXT, text)


def console_choices(choices: Iterable[tuple[Any, Any]]) -> list[tuple[str, str]]:
    """``choices`` with every label through ``console_label``."""
    return [(str(value), console_label(label)) for value, label in choices]
