"""Spoken prompts on Zalo (issue 21): the Bot Platform has no voice message, so a person who
chooses "nghe" is told so in one line and offered the web chat (fake Zalo Bot API)."""

from __future__ import annotations

from dialogs import speech
from dialogs.i18n import translator
from tests.e2e.test_zalo import fake_zalo, runtime
from tests.e2e.zalo_driver import ZaloPerson, numbered

__all__ = ["fake_zalo", "runtime"]  # the fixtures, shared with the channel's own tests

VI = translator("vi")


async def test_nghe_on_zalo_says_in_one_line_that_zalo_has_no_voice(runtime, fake_zalo):
    person = ZaloPerson(fake_zalo, "9b1e7c3a5d2f4e6a8c0b")
    person.say("xin chào")
    first = await person.offered("safe")
    listen = VI.gettext(speech.OPT_LISTEN)
    assert listen in [label for _n, label in numbered(first.text)]
    await person.choose("ear")
    told = await person.wait_text(VI.gettext("ch.novoice.listen"))
    assert VI.gettext("listen.on") not in told.text  # nothing claims a voice message comes
    assert "\n" not in VI.gettext("ch.novoice.listen")  # one short line
    assert VI.gettext("start.safe") in told.text  # and the question is asked again
    assert not [c.method for c in fake_zalo.calls() if "oice" in c.method or "udio" in c.method]
