"""Bad input: a kind re-prompt in the person's language, options again, nothing lost."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from dialogs import DEFAULT_TTL, handle, is_expired
from dialogs import actions as A
from dialogs import commands as C
from dialogs import events as E
from dialogs.i18n import translator
from tests.dialogs.helpers import T0, Bot, skip_danger_questions


def _t(lang, msgid, **kw):
    return translator(lang).gettext(msgid, **kw)


def at_who(lang="vi") -> Bot:
    bot = Bot()
    bot.cmd("start")
    if lang != "vi":
        bot.tap_global(A.LANG)
        bot.tap(f"l_{lang}")
    bot.tap("safe")
    bot.tap("me")
    bot.tap("phys")
    bot.tap("done")
    assert bot.step == "sv.who"
    return bot


def assert_reprompt(bot: Bot, note: str, lang="vi", step="sv.who", **kw):
    (send,) = bot.sends
    assert send.text.startswith(_t(lang, note, **kw))
    assert _t(lang, "sv.who") in send.text
    assert any(o.data.endswith(".partner") for o in send.options)
    assert A.EXIT in [o.data for o in send.options]
    assert bot.step == step
    assert bot.state["a"]["types"] == ["phys"]


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_text_over_4000_chars(lang):
    bot = at_who(lang)
    bot.text("a" * 4001)
    limit = "4.000" if lang == "vi" else "4,000"
    assert_reprompt(bot, "bad.too_long", lang, limit=limit)
    assert limit in bot.sends[0].text


def test_text_of_4000_chars_in_account_is_kept_and_total_is_bounded():
    bot = at_who()
    for code in ("skip",) * 1:
        bot.tap(code)
    while bot.step != "sv.acc":
        bot.tap(
            "skip"
            if "skip" in bot.codes()
            else ("done" if "done" in bot.codes() else ("n" if "n" in bot.codes() else "none"))
        )
    for _ in range(4):
        bot.text("b" * 4000)
    assert len(bot.state["acc"]) == 4
    bot.text("c" * 10)
    assert _t("vi", "acc.full") in bot.last_text
    assert len(bot.state["acc"]) == 4
    bot.tap("done")
    assert bot.step == "sv.att"


def test_unknown_button_and_stale_button():
    bot = at_who()
    bot.send(E.Choice(f"{bot.state['n']:x}.nonsense"))
    assert_reprompt(bot, "bad.choose")
    bot.send(E.Choice("0.partner"))  # from an older message
    assert_reprompt(bot, "bad.stale")
    bot.send(E.Choice("garbage without token"))
    assert_reprompt(bot, "bad.stale")
    bot.send(E.Choice(""))
    assert_reprompt(bot, "bad.stale")


def test_media_location_contact_where_text_expected():
    bot = at_who()
    bot.send(E.Media("photo", "ref"))
    assert_reprompt(bot, "bad.media")
    bot.send(E.Location(10.0, 106.0))
    assert_reprompt(bot, "bad.location")
    bot.send(E.Contact("+84912345678"))
    assert_reprompt(bot, "bad.contact")
    assert "phone" not in bot.state["a"]  # never keep a contact given for nothing


@pytest.mark.parametrize("text", ["😀😀", "ສະບາຍດີ 你好 مرحبا", "   ", "\u202e\u200b", "🏳️‍🌈" * 50])
def test_emoji_and_mixed_scripts(text):
    bot = at_who()
    bot.text(text)
    (send,) = bot.sends
    assert bot.step == "sv.who" and send.options
    assert bot.state["a"]["types"] == ["phys"]


def test_typed_numbers_and_words_choose_options():
    bot = at_who()
    bot.text("1")  # first option: partner
    assert bot.state["a"]["perp"] == "partner" and bot.step == "sv.when"
    bot.text("TRONG THANG NAY")  # "Trong tháng này" without diacritics
    assert bot.state["a"]["when"] == "month"
    for _ in range(6):  # the danger questions, skipped by typing
        bot.text("bỏ qua")
    assert bot.step == "sv.where"
    bot.text("bỏ qua")
    assert bot.state["a"]["place"] is None
    bot.text("99")
    assert _t("vi", "bad.choose") in bot.last_text


def test_typed_exit_word_is_quick_exit():
    bot = at_who()
    bot.text("Thoát nhanh")
    assert bot.actions[0] == A.DeleteTracked(None)


def test_bad_phone_and_good_phone():
    bot = at_who()
    bot.tap("skip")
    bot.tap("skip")
    skip_danger_questions(bot)
    bot.tap("skip")
    for _ in range(5):
        bot.tap("skip")
    bot.tap("done")  # needs
    bot.tap("n")  # no sharing
    bot.tap("n")  # no statistics
    bot.tap("phone")
    bot.text("12345")
    assert _t("vi", "bad.phone") in bot.last_text
    bot.send(E.Contact("not a phone"))
    assert _t("vi", "bad.phone") in bot.last_text
    bot.text("+84 (91) 234-5678")
    assert bot.state["a"]["phone"] == "+84912345678"


def test_place_not_found_then_retype_then_skip():
    bot = at_who()
    bot.tap("stranger")
    bot.tap("month")
    skip_danger_questions(bot)
    bot.text("x")
    assert _t("vi", "place.short") in bot.last_text
    bot.text("Nowhere")
    bot.send(E.PlaceCandidates(()))
    assert _t("vi", "place.not_found") in bot.last_text
    bot.text("Ea H'leo")
    bot.send(
        E.PlaceCandidates(
            (
                {"code": "1", "name": "Xã Ea H'leo", "province_name": "Đắk Lắk"},
                {"bad": "candidate"},
                "junk",
            )
        )
    )
    assert bot.codes()[:2] == ["c0", "none"]
    bot.tap("none")
    assert _t("vi", "place.retype") in bot.last_text
    bot.tap("skip")
    assert bot.step == "sv.age" and bot.state["a"]["place"] is None


def test_location_then_none_of_the_nearest_keeps_the_point():
    bot = at_who()
    bot.tap("stranger")
    bot.tap("month")
    skip_danger_questions(bot)
    bot.send(E.Location(12.5, 108.1))
    bot.send(E.PlaceCandidates(({"code": "9", "name": "Xã A", "province_name": "B"},)))
    bot.tap("none")
    assert bot.state["a"]["place"] == {"lat": 12.5, "lon": 108.1}
    assert bot.step == "sv.age"


@pytest.mark.parametrize("lat,lon", [(float("nan"), 1.0), (91.0, 0.0), (0.0, 181.0)])
def test_bad_location(lat, lon):
    bot = at_who()
    bot.tap("stranger")
    bot.tap("month")
    skip_danger_questions(bot)
    bot.send(E.Location(lat, lon))
    assert _t("vi", "bad.location") in bot.last_text


def test_unexpected_results_are_ignored():
    bot = at_who()
    for ev in (
        E.ReportSubmitted("1" * 16, "c"),
        E.CaseFound("c", "new"),
        E.CaseNotFound(),
        E.RateLimited(),
        E.PlaceCandidates(),
        E.Done("AddToReport"),
        E.Failed("SubmitReport"),
        E.Done("Bogus"),
    ):
        acts, cmds = bot.send(ev)
        assert acts == [] and cmds == []
    assert bot.step == "sv.who" and bot.state["a"]["types"] == ["phys"]


def test_unknown_command():
    bot = at_who()
    bot.cmd("frobnicate")
    assert_reprompt(bot, "bad.command")


# --- state -------------------------------------------------------------------------------


def test_state_is_small_json_and_versioned():
    bot = at_who()
    raw = json.dumps(bot.state)
    assert bot.state["v"] == 1 and len(raw) < 400


@pytest.mark.parametrize(
    "bad",
    [
        {"v": 99, "s": "sv.who"},
        {"v": 1, "s": "nope", "n": 1, "l": "vi"},
        {"v": 1, "s": "sv.who", "n": "x", "l": "vi"},
        {},
        {"v": 1},
    ],
)
def test_unknown_or_broken_state_restarts_safely(bad):
    state, acts, cmds = handle(bad, E.Text("hi"), T0)
    assert state["v"] == 1 and state["s"] == "start"
    assert cmds == [C.DeleteDraft()]
    assert acts and acts[-1].options


def test_expired_draft_is_shredded_and_starts_fresh():
    bot = at_who()
    assert not is_expired(bot.state, bot.now + DEFAULT_TTL)
    assert is_expired(bot.state, bot.now + DEFAULT_TTL + timedelta(seconds=1))
    bot.send(E.Choice(bot.option("partner").data), tick=DEFAULT_TTL.total_seconds() + 5)
    assert bot.commands == [C.DeleteDraft()]
    assert "a" not in bot.state and bot.step == "start"
    # configurable ttl
    st, _a, cmds = handle(
        bot.state, E.Text("x"), bot.now + timedelta(hours=2), ttl=timedelta(hours=1)
    )
    assert cmds == [C.DeleteDraft()]


def test_handle_does_not_mutate_the_given_state():
    bot = at_who()
    before = json.dumps(bot.state, sort_keys=True)
    snapshot = json.loads(before)
    handle(snapshot, E.Choice(bot.option("partner").data), bot.now)
    assert json.dumps(snapshot, sort_keys=True) == before


def test_event_action_command_dict_round_trip():
    for ev in (
        E.Text("a"),
        E.Choice("1.a", "m1"),
        E.Location(1.0, 2.0),
        E.Contact("0912"),
        E.Media("voice", "r"),
        E.Command("start", "en"),
        E.ReportSubmitted("1", "c"),
        E.CaseFound("c", "new", ({"at": "x", "text": "y"},)),
        E.CaseNotFound(),
        E.RateLimited(5),
        E.PlaceCandidates(({"code": "1"},)),
        E.Done("X"),
        E.Failed("Y"),
    ):
        assert E.Event.from_dict(json.loads(json.dumps(ev.to_dict()))) == ev
    for act in (
        A.Send("t", (A.Option("1.a", "A"),), True, False, "prompt"),
        A.Edit("prompt", "t", (A.Option("x", "X"),)),
        A.DeleteTracked(None),
        A.DeleteTracked("receipt"),
    ):
        assert A.Action.from_dict(json.loads(json.dumps(act.to_dict()))) == act
    for cmd in (
        C.SubmitReport({"a": 1}),
        C.LookupReceipt("1"),
        C.SearchPlace("q", "vi"),
        C.NearestPlaces(1.0, 2.0),
        C.AddToReport("c", ("t",), ({"kind": "photo", "ref": "r"},)),
        C.RelayToFocal("c", ("t",)),
        C.WithdrawCase("c"),
        C.DeleteCase("c"),
        C.StopContact("c"),
        C.DeleteDraft(),
    ):
        assert C.Command.from_dict(json.loads(json.dumps(cmd.to_dict()))) == cmd


def test_unprompted_messages_are_neutral():
    from dialogs.outbound import news_text

    s = news_text("vi", "reply", text="Chào bạn, chiều nay mình gọi được không?")
    assert "Chào bạn, chiều nay" in s
    assert news_text("en", "acked") == "Update: the support person has taken it."
    assert news_text("rad", "weird") == "Cập nhật: đang xử lý."


def test_late_place_results_after_moving_on_are_ignored():
    bot = Bot()
    bot.cmd("start")
    bot.tap("danger")
    bot.text("Pleiku")
    assert bot.commands == [C.SearchPlace("Pleiku", "vi")]
    bot.send(E.Location(13.98, 108.0))  # moves on to the second question
    assert bot.step == "dg.who"
    acts, cmds = bot.send(E.PlaceCandidates(({"code": "1", "name": "P", "province_name": "G"},)))
    assert acts == [] and cmds == [] and "pc" not in bot.state
    assert bot.state["a"]["place"] == {"lat": 13.98, "lon": 108.0}


def at_danger_who() -> Bot:
    """The urgent alert's one question, its place skipped."""
    bot = Bot()
    bot.cmd("start")
    bot.tap("danger")
    bot.tap("skip")
    assert bot.step == "dg.who"
    return bot


def test_a_cry_for_help_instead_of_a_button_sends_the_alert_the_second_time():
    """dg.who says the alert goes out at once: words that are no option are asked about
    once, then the alert goes out with them (who is in danger left unsaid)."""
    bot = at_danger_who()
    bot.text("cứu tôi với")
    assert bot.commands == [] and bot.step == "dg.who"
    assert _t("vi", "bad.choose") in bot.last_text
    bot.text("nó đang đánh")
    (submit,) = bot.commands
    report = submit.report
    assert report["flow"] == "danger" and report["urgency"] == "immediate"
    assert report["consent"]["referral"]["value"] is True
    assert report["consent"]["organisations"]["value"] == []  # the police: a button only
    assert report["free_text"]["account"] == ["cứu tôi với", "nó đang đánh"]
    assert report["reporter"] == "survivor" and report["child_protection"] is False


def test_a_voice_note_instead_of_a_button_counts_as_an_unclear_answer():
    bot = at_danger_who()
    bot.send(E.Media("voice", "v1"))
    assert bot.commands == [] and bot.step == "dg.who"
    bot.send(E.Media("voice", "v2"))
    (submit,) = bot.commands
    assert submit.report["free_text"]["media"] == [
        {"kind": "voice", "ref": "v1"},
        {"kind": "voice", "ref": "v2"},
    ]


@pytest.mark.parametrize("no", ["không", "Thôi!", "huỷ", "không gửi", "Đừng gửi", "9"])
def test_a_typed_no_at_the_alert_never_sends_it(no):
    """A bare "no", or a number that is no option's (a slip while choosing), is only
    asked about again: it never counts toward sending."""
    bot = at_danger_who()
    bot.text("cứu")
    bot.text(no)
    bot.text(no)
    assert bot.commands == []
    assert bot.step in ("dg.who", "dg.nosend")


def test_a_button_between_two_unclear_answers_starts_the_count_again():
    bot = at_danger_who()
    bot.text("???")
    bot.tap("nosend")
    assert bot.step == "dg.nosend"
    bot.tap("send")
    assert bot.step == "dg.who"
    bot.text("???")
    assert bot.commands == [] and bot.step == "dg.who"
    bot.tap("child")
    (submit,) = bot.commands
    assert submit.report["child_protection"] is True
    assert submit.report["consent"]["organisations"]["value"] == ["police"]
    assert submit.report["free_text"]["account"] == ["???", "???"]


def test_elsewhere_an_unclear_answer_is_only_asked_about_again():
    bot = at_who()
    for _ in range(3):
        bot.text("ai biết")
        assert_reprompt(bot, "bad.choose")
    assert bot.commands == [] and "acc" not in bot.state
