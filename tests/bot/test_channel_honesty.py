"""Texts are true on the channel that shows them and for the person who reads them.

Every text the conversation engine and the flows can show is rendered by each channel's
renderer, in Vietnamese and English; none may claim a capability its channel lacks
(buttons, voice messages, deleting messages): the forbidden phrases are derived from the
one capability table, dialogs.channel_texts.CLAIMS, by the channel's own Capabilities.
And a witness is not told what only the survivor should hear."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.channel import lacking
from bot.telegram.render import TelegramRenderer
from bot.web.render import WebRenderer
from bot.zalo.render import ZaloRenderer
from dialogs import actions as A
from dialogs import channel_texts
from dialogs import events as E
from dialogs.flows import STEPS_LIST, prompt_of
from dialogs.i18n import translator
from tests.dialogs.helpers import Bot

LANGS = ["vi", "en"]
RENDERERS = {"telegram": TelegramRenderer(), "zalo": ZaloRenderer(), "web": WebRenderer()}
DIALOGS = Path(__file__).resolve().parents[2] / "dialogs"
# Texts the engine can say besides the steps' prompts (focal points', the web page's and
# the channels' own texts are not the engine's).
_OWN = re.compile(r'N_\("([a-z][a-z0-9_.]*)"\)')
_NOT_ENGINE = ("ch.", "cap.", "focal.", "web", "menu.", "cmd.")


def engine_texts() -> set[str]:
    ids = set()
    for name in ("engine.py", "flows.py", "text.py", "outbound.py"):
        ids |= set(_OWN.findall((DIALOGS / name).read_text(encoding="utf-8")))
    for step in STEPS_LIST:
        for flow in ("sv", "wt", "dg"):
            ids |= set(prompt_of(step, {"f": flow}))
    return {i for i in ids if not i.startswith(_NOT_ENGINE)}


def test_the_claims_table_covers_what_zalo_lacks():
    missing = lacking(ZaloRenderer.capabilities)
    assert {"inline_buttons", "voice", "delete_messages"} <= missing
    assert lacking(TelegramRenderer.capabilities) == set()


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("channel", sorted(RENDERERS))
def test_no_text_claims_what_its_channel_cannot_do(channel, lang):
    renderer = RENDERERS[channel]
    forbidden = channel_texts.claims(lacking(renderer.capabilities), lang)
    tr = translator(lang)
    ids = engine_texts()
    assert len(ids) > 100  # every prompt of every flow, and the engine's replies
    untrue = []
    for msgid in sorted(ids):
        text = tr.gettext(msgid)
        option = A.Option("1.x", tr.gettext("opt.done"))
        for call in renderer.render(A.Send(text, (option,)), "c1", incoming=[], lang=lang):
            shown = str(call.params.get("text", ""))
            untrue += [(msgid, claim) for claim in forbidden if claim in shown]
    assert untrue == []


def witness_at_the_end(lang: str) -> Bot:
    """A witness's report, from the start to the last screen (as in test_flows)."""
    bot = Bot(lang if lang != "vi" else None)
    bot.cmd("start")
    bot.tap("safe")
    bot.tap("other")
    bot.tap("friend")
    bot.tap("n")
    bot.tap("y")  # a child
    bot.tap("n")  # no one in danger now
    bot.tap("sex")
    bot.tap("done")
    bot.send(E.Location(12.68, 108.05))
    bot.send(
        E.PlaceCandidates(({"code": "24100", "name": "Xã Hòa Phú", "province_name": "Đắk Lắk"},))
    )
    bot.tap("c0")
    bot.tap("now")
    bot.tap("none")
    bot.tap("y")
    bot.tap("social")
    bot.tap("done")
    bot.tap("n")
    bot.text("Tôi nghe tiếng cháu khóc mỗi tối.")
    bot.tap("done")
    bot.tap("send")
    bot.send(E.ReportSubmitted("9999 8888 7777 6666", "case-9"))
    bot.tap("saved")
    assert bot.step == "done"
    return bot


@pytest.mark.parametrize("lang", LANGS)
def test_a_witness_is_thanked_not_told_she_is_not_to_blame(lang):
    tr = translator(lang)
    bot = witness_at_the_end(lang)
    assert tr.gettext("done.text") not in bot.last_text
    assert tr.gettext("done.witness") in bot.last_text
