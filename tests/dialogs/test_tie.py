"""News of a case and replies in place, in the pure engine (issue 18, findings 3 and 4)."""

from __future__ import annotations

from datetime import timedelta

from dialogs import actions as A
from dialogs import commands as C
from dialogs import events as E
from dialogs.engine import TIE_SILENCE, keep_for
from dialogs.i18n import translator
from dialogs.outbound import news_text
from tests.dialogs.helpers import Bot

TR = translator("vi")


def at_done() -> Bot:
    """A person who sent a report and saved the receipt (the "done" screen)."""
    bot = Bot()
    bot.cmd("start")
    bot.state = {**bot.state, "s": "done"}
    return bot


def test_a_reply_is_shown_and_ties_the_chat_then_a_plain_message_goes_back():
    bot = at_done()
    acts, cmds = bot.send(E.CaseNews("REF1", "reply", text="Chị ổn không?"))
    assert cmds == [] and "Chị ổn không?" in acts[0].text
    # then the screen she was on, newest, so that a typed number means one of its options
    assert acts[-1].tag == A.TAG_PROMPT and A.EXIT in [o.data for o in acts[-1].options]
    assert bot.state["tie"]["ref"] == "REF1"

    _, cmds = bot.text("Em ổn, cảm ơn chị.")
    assert cmds == [C.RelayToFocal("REF1", ("Em ổn, cảm ơn chị.",))]
    acts, _ = bot.send(E.Done("RelayToFocal"))
    assert TR.gettext("fu.relayed") in acts[0].text and bot.step == "done"


def test_options_exit_words_and_receipt_codes_keep_their_meaning_while_tied():
    bot = at_done()
    bot.send(E.CaseNews("REF1", "reply", text="hi"))
    _, cmds = bot.text("1")  # the first option of the screen
    assert not any(isinstance(c, C.RelayToFocal) for c in cmds)
    bot = at_done()
    bot.send(E.CaseNews("REF1", "reply", text="hi"))
    _, cmds = bot.text("1234 5678 9012 3456")
    assert cmds == [C.LookupReceipt("1234567890123456")]


def test_a_report_being_written_keeps_its_text():
    bot = at_done()
    bot.send(E.CaseNews("REF1", "reply", text="hi"))
    bot.cmd("start")
    bot.tap("safe")
    bot.tap("me")
    bot.tap("phys")
    bot.tap("done")
    assert bot.step == "sv.who"
    _, cmds = bot.text("something odd")  # a choice step of a new report: asked again
    assert cmds == [] and TR.gettext("bad.choose") in bot.last_text


def test_quick_exit_ends_the_tie_and_hides_all_news():
    bot = at_done()
    bot.send(E.CaseNews("REF1", "reply", text="hi"))
    bot.tap_global(A.EXIT)
    assert "tie" not in bot.state
    for kind in ("reply", "acked", "climbed", "after_hours", "closed"):
        acts, cmds = bot.send(E.CaseNews("REF1", kind, text="x"))
        assert acts == [] and cmds == []
    assert bot.state["s"] == "exited" and "tie" not in bot.state


def test_a_week_of_silence_or_the_close_ends_the_tie():
    bot = at_done()
    bot.send(E.CaseNews("REF1", "reply", text="hi"))
    bot.now += TIE_SILENCE + timedelta(minutes=1)
    _, cmds = bot.text("still there?")
    assert cmds == [C.DeleteDraft()]  # the draft's time is over too; nothing relayed
    assert TR.gettext("tie.gone") in bot.last_text

    bot = at_done()
    bot.send(E.CaseNews("REF1", "reply", text="hi"))
    acts, _ = bot.send(E.CaseNews("REF1", "closed"))
    assert news_text("vi", "closed") in acts[0].text
    _, cmds = bot.text("one more thing")
    assert cmds == [] and TR.gettext("tie.gone") in bot.last_text


def test_news_does_not_keep_a_draft_alive_and_the_tie_outlives_the_draft():
    bot = at_done()
    bot.send(E.CaseNews("REF1", "reply", text="hi"))
    touched = bot.state["t"]
    bot.send(E.CaseNews("REF1", "acked"), tick=3600)
    assert bot.state["t"] == touched
    bot.now += timedelta(days=4)  # the draft's 72 hours are over, the tie's week is not
    _, cmds = bot.text("are you there?")
    assert C.DeleteDraft() in cmds and C.RelayToFocal("REF1", ("are you there?",)) in cmds
    assert keep_for(bot.state, bot.now) > timedelta(days=3)


def test_news_during_the_submission_waits_for_the_receipt_buttons():
    bot = at_done()
    bot.state = {**bot.state, "w": "submit"}
    acts, _ = bot.send(E.CaseNews("REF1", "after_hours", who="province_desk"))
    assert acts[0].options == ()
    assert TR.gettext("who.province_desk") in acts[0].text


def test_news_with_no_screen_open_is_the_screen_and_its_numbers_mean_its_options():
    bot = Bot()
    bot.cmd("start")
    bot.state = {**bot.state, "s": ""}  # e.g. her draft expired: no step open
    acts, _ = bot.send(E.CaseNews("REF1", "acked"))
    assert len(acts) == 1  # neutral: not the greeting that names the hotline
    labels = [o.label for o in acts[0].options]
    assert labels[-1] == TR.gettext("opt.exit")
    acts, _ = bot.text(str(len(labels)))  # the last number: quick exit
    assert bot.step == "exited"


def test_news_on_an_open_screen_shows_that_screen_again_newest():
    bot = at_done()
    before = bot.state["n"]
    acts, _ = bot.send(E.CaseNews("REF1", "acked"))
    assert acts[0].options == () and acts[-1].tag == A.TAG_PROMPT
    assert bot.step == "done" and bot.state["n"] == before  # the old buttons still work
    _, _ = bot.text("1")  # the first option of that screen, not of the news
    assert bot.step != "exited" and "hn" not in bot.state
