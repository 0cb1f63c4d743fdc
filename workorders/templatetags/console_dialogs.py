"""``{% console_dialog %}``: the console's small form dialogs share one frame.

    {% console_dialog "restore" title=_("部分恢复送电") submit=_("恢复该设备") %}
      ...the fields...
    {% endconsole_dialog %}

renders ``workorders/_console_dialog.html``: a ``<dialog id="restore-dialog">`` whose form
(``restore-form``) has the title (``restore-title``) and a close button, the fields, an error
line (``restore-error``) and the cancel and submit (``restore-submit``) buttons.
"""

from __future__ import annotations

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_block_tag
def console_dialog(content: SafeString, name: str, *, title: str, submit: str) -> SafeString:
    """The dialog frame named ``name`` around ``content`` (the fields)."""
    return render_to_string(
        "workorders/_console_dialog.html",
        {"name": name, "title": title, "submit": submit, "content": content},
    )
