"""Chat messages as HTML, for the first screen rendered into the page itself (before its
script has loaded). ``bot/web/static/chat.js`` builds the same elements for every later
message: keep the two alike (tests/web/test_phone.py compares them).

Every emergency number in a message is a ``tel:`` link (a 48×48 px touch target, by CSS);
the options are buttons carrying their data, the emergency option a row of ``tel:`` links.
"""

from __future__ import annotations

import html
import re
from typing import Any

EMERGENCY = ("113", "114", "115", "111")  # police, fire, ambulance, child protection
SOS = "sos"  # the engine's emergency-numbers option
PRIMARY = "send"  # "Gửi báo cáo": the page's one primary action
DONE = "done"  # "Xong": finishes a step, not an answer
# a run of digits, with single spaces, dots or dashes between groups
_NUMBER_RUN = re.compile(r"\d+(?:[ .\-]\d+)*")


def tel(number: str) -> str:
    return f'<a class="tel" href="tel:{number}">{number}</a>'


def linkify(text: str) -> str:
    """``text`` escaped, with each emergency number standing alone made a ``tel:`` link
    (never a part of a longer number such as a phone number or a receipt code)."""
    out, at = [], 0
    for found in _NUMBER_RUN.finditer(text):
        if found.group(0) not in EMERGENCY:
            continue
        out.append(html.escape(text[at : found.start()]))
        out.append(tel(found.group(0)))
        at = found.end()
    out.append(html.escape(text[at:]))
    return "".join(out)


def emergency_links() -> str:
    """The header's links: 113 · 115 · 111."""
    return " ".join(tel(n) for n in ("113", "115", "111"))


def code_of(data: str) -> str:
    return data.rpartition(".")[2]


def button_class(data: str, label: str) -> str:
    code = code_of(data)
    if code == PRIMARY and "." in data:
        return "primary wide"
    if code == DONE and "." in data:
        return "done wide"
    return "wide" if len(label) > 16 else ""


def option_html(option: dict[str, str]) -> str:
    data, label = option["data"], option["label"]
    if data == SOS:
        return f'<p class="sosopt">{linkify(label)}</p>'
    kind = button_class(data, label)
    attrs = f' class="{kind}"' if kind else ""
    return (
        f'<button type="button"{attrs} data-choice="{html.escape(data)}">'
        f"{html.escape(label)}</button>"
    )


def message_html(params: dict[str, Any], *, pre: bool = False) -> str:
    """One bot message (a ``send`` operation's parameters)."""
    tag = params.get("tag")
    attrs = f' data-tag="{html.escape(tag)}"' if tag else ""
    if pre:
        attrs += ' data-pre="1"'
    options = params.get("options") or []
    row = ""
    if options:
        row = '<div class="opts">' + "".join(option_html(o) for o in options) + "</div>"
    text = linkify(params.get("text") or "")
    return f'<div class="msg bot"{attrs}><div class="text">{text}</div>{row}</div>'
