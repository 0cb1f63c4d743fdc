"""The console's form dialogs share one frame ({% console_dialog %})."""

from __future__ import annotations

import re

from django.template import Context, Template
from django.utils import translation


def _render(source: str) -> str:
    return Template("{% load console_dialogs %}" + source).render(Context({}))


def test_console_dialog_frames_the_fields_with_named_parts():
    html = _render(
        '{% console_dialog "restore" title="部分恢复送电" submit="恢复该设备" %}'
        '<input id="restore-device">{% endconsole_dialog %}'
    )
    assert re.search(
        r'<dialog class="console-dialog" id="restore-dialog"\s+aria-labelledby="restore-title">',
        html,
    )
    assert '<form method="dialog" id="restore-form" novalidate>' in html
    assert '<h2 id="restore-title">部分恢复送电</h2>' in html
    # The fields sit between the header and the error line, unescaped.
    assert (
        html.index("</header>")
        < html.index('<input id="restore-device">')
        < html.index('id="restore-error"')
    )
    assert (
        '<button type="submit" class="btn btn-primary" id="restore-submit">恢复该设备</button>'
        in html
    )
    assert html.count("data-close") == 2


def test_console_dialog_translates_its_labels():
    with translation.override("en"):
        html = _render(
            '{% console_dialog "declare" title=_("录入故障停电") submit=_("确认录入") %}'
            "{% endconsole_dialog %}"
        )
    assert '<h2 id="declare-title">Declare fault outage</h2>' in html
    assert "录入" not in html
    assert "关闭" not in html


def test_console_page_renders_the_dialogs_through_the_frame(client, dispatcher):
    client.force_login(dispatcher)
    html = client.get("/console/").content.decode()
    for name in ("action", "restore", "declare", "planned"):
        assert f'id="{name}-dialog"' in html
        assert f'id="{name}-form"' in html
        assert f'id="{name}-error"' in html
        assert f'id="{name}-submit"' in html
