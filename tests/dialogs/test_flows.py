"""Walk every flow to the end in Vietnamese and English; assert the exact commands."""

from __future__ import annotations

import pytest

from dialogs import actions as A
from dialogs import commands as C
from dialogs import events as E
from dialogs.i18n import translator
from tests.dialogs.helpers import Bot, skip_danger_questions

LANGS = ["vi", "en"]


def _t(lang, msgid, **kw):
    return translator(lang).gettext(msgid, **kw)


def start(lang: str) -> Bot:
    bot = Bot()
    bot.cmd("start")
    if lang != "vi":
        bot.tap_global(A.LANG)
        bot.tap(f"l_{lang}")
    return bot


def survivor_answers(bot: Bot, phone=True):
    bot.tap("safe")
    bot.tap("me")
    assert bot.step == "sv.what"
    bot.tap("phys")
    bot.tap("psy")
    bot.tap("done")
    bot.tap("partner")
    bot.tap("72h")
    skip_danger_questions(bot)
    bot.text("Ea Tu")
    assert bot.commands == [C.SearchPlace("Ea Tu", bot.state["l"])]
    assert bot.actions == []
    bot.send(
        E.PlaceCandidates(
            (
                {"code": "24121", "name": "Phường Ea Tu", "province_name": "Đắk Lắk"},
                {"code": "11111", "name": "Xã Ea Tu", "province_name": "Gia Lai"},
            )
        )
    )
    bot.tap("c0")
    bot.tap("a26")
    bot.tap("f")
    bot.tap("n")  # disability: no
    bot.tap("ede")
    bot.tap("n")  # not moved from another province
    bot.tap("med")
    bot.tap("legal")
    bot.tap("done")
    bot.tap("y")  # share with the focal point
    bot.tap("health")
    bot.tap("police")
    bot.tap("done")
    bot.tap("y")  # statistics
    if phone:
        bot.tap("phone")
        bot.text("0912 345 678")
        bot.tap("eve")
    else:
        bot.tap("chat")
    assert bot.step == "sv.acc"
    bot.text("Anh ấy đánh tôi tối qua.")
    bot.send(E.Media("voice", "file-voice-1"))
    bot.text("Tôi sợ về nhà.")
    bot.tap("done")
    assert bot.step == "sv.att"
    bot.send(E.Media("photo", "file-photo-1"))
    bot.tap("done")
    assert bot.step == "sv.sum"


def expected_survivor_report(lang, at, phone=True):
    return {
        "schema": 1,
        "flow": "survivor",
        "reporter": "survivor",
        "urgency": "normal",
        "urgency_reasons": [],
        "danger_signs": [],
        "category": "physical_assault",
        "types": ["physical_assault", "psychological_abuse"],
        "context": ["intimate_partner", "within_72h"],
        "perpetrator": "partner_or_ex",
        "when": "last_72h",
        "age_band": "26-40",
        "sex": "female",
        "disability": False,
        "ethnic_code": "12",
        "migrant": False,
        "counted_contexts": [],
        "place": {
            "commune_code": "24121",
            "commune_name": "Phường Ea Tu",
            "province_name": "Đắk Lắk",
        },
        "needs": ["medical", "legal"],
        "consent": {
            "referral": {"value": True, "at": at["referral"]},
            "organisations": {"value": ["health", "police"], "at": at["orgs"]},
            "statistics": {"value": True, "at": at["stats"]},
        },
        "contact": (
            {
                "method": "phone",
                "phone": "+84912345678",
                "safe_times": "evening",
                "status_updates": False,
            }
            if phone
            else {"method": "chat", "phone": None, "safe_times": None, "status_updates": True}
        ),
        "child_protection": False,
        "witness": None,
        "language": lang,
        "preferred_language": lang,
        "created_at": at["created"],
        "free_text": {
            "account": ["Anh ấy đánh tôi tối qua.", "Tôi sợ về nhà."],
            "media": [
                {"kind": "voice", "ref": "file-voice-1"},
                {"kind": "photo", "ref": "file-photo-1"},
            ],
        },
    }


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("phone", [True, False])
def test_survivor_flow_to_the_end(lang, phone):
    bot = start(lang)
    survivor_answers(bot, phone=phone)
    summary = bot.last_text
    assert _t(lang, "who.sees") in summary
    assert _t(lang, "rc.warn") in summary  # a lost code is a lost link: said BEFORE
    assert _t(lang, "type.physical_assault") in summary
    if phone:
        assert "+84912345678" in summary
    stamps = dict(bot.state["ts"])
    bot.tap("send")
    (cmd,) = bot.commands
    assert isinstance(cmd, C.SubmitReport)
    at = {
        "referral": stamps["referral"],
        "orgs": stamps["orgs"],
        "stats": stamps["stats"],
        "created": bot.now.isoformat(timespec="seconds"),
    }
    assert cmd.report == expected_survivor_report(lang, at, phone)
    assert bot.sends[-1].text == _t(lang, "sending.text")
    assert ("chỉ hiện một lần" if lang == "vi" else "shown only once") in bot.sends[-1].text
    # the receipt is shown once, with "I have saved it"; saving deletes that message
    bot.send(E.ReportSubmitted("1234567812345678", "case-7"))
    (receipt,) = bot.sends
    assert receipt.tag == A.TAG_RECEIPT
    assert "1234 5678 1234 5678" in receipt.text
    assert "a" not in bot.state and "acc" not in bot.state  # the draft is gone
    bot.tap("saved")
    assert bot.actions[0] == A.DeleteTracked(A.TAG_RECEIPT)
    assert "1234" not in bot.last_text
    assert bot.step == "done"
    assert "1234" not in str(bot.state)


@pytest.mark.parametrize("lang", LANGS)
def test_witness_flow_child_in_danger(lang):
    bot = start(lang)
    bot.tap("safe")
    bot.tap("other")
    assert bot.step == "wt.rel"
    bot.tap("friend")
    bot.tap("n")  # the victim does not know
    bot.tap("y")  # a child
    assert _t(lang, "note.child") in bot.last_text
    bot.tap("y")  # someone in danger now -> numbers in the very next message
    nxt = bot.sends[0].text
    for number in ("113", "115", "111"):
        assert number in nxt
    bot.tap("sex")
    bot.tap("done")
    bot.send(E.Location(12.68, 108.05))
    assert bot.commands == [C.NearestPlaces(12.68, 108.05)]
    bot.send(
        E.PlaceCandidates(({"code": "24100", "name": "Xã Hòa Phú", "province_name": "Đắk Lắk"},))
    )
    bot.tap("c0")
    bot.tap("now")
    bot.tap("none")  # no contact for the witness
    assert bot.step == "wt.share"
    bot.tap("y")
    bot.tap("social")
    bot.tap("done")
    bot.tap("n")  # no statistics
    bot.text("Tôi nghe tiếng cháu khóc mỗi tối.")
    bot.tap("done")
    assert bot.step == "wt.sum"
    ts = dict(bot.state["ts"])
    bot.tap("send")
    (cmd,) = bot.commands
    assert cmd.report == {
        "schema": 1,
        "flow": "witness",
        "reporter": "witness",
        "urgency": "immediate",
        "urgency_reasons": ["danger_now", "child", "happening_now", "sexual_violence_72h"],
        "danger_signs": [],
        "category": "sexual_assault",
        "types": ["sexual_assault"],
        "context": ["child", "child_sexual_abuse", "within_72h"],
        "perpetrator": None,
        "when": "now",
        "age_band": None,
        "sex": None,
        "disability": None,
        "ethnic_code": None,
        "migrant": None,
        "counted_contexts": [],
        "place": {
            "commune_code": "24100",
            "commune_name": "Xã Hòa Phú",
            "province_name": "Đắk Lắk",
            "lat": 12.68,
            "lon": 108.05,
        },
        "needs": [],
        "consent": {
            "referral": {"value": True, "at": ts["referral"]},
            "organisations": {"value": ["social"], "at": ts["orgs"]},
            "statistics": {"value": False, "at": ts["stats"]},
        },
        "contact": {"method": "none", "phone": None, "safe_times": None, "status_updates": False},
        "child_protection": True,
        "witness": {
            "relation": "friend_or_neighbour",
            "victim_knows": False,
            "victim_is_child": True,
            "danger_now": True,
        },
        "language": lang,
        "preferred_language": lang,
        "created_at": bot.now.isoformat(timespec="seconds"),
        "free_text": {"account": ["Tôi nghe tiếng cháu khóc mỗi tối."], "media": []},
    }
    bot.send(E.ReportSubmitted("9999 8888 7777 6666", "case-9"))
    bot.tap("saved")
    assert bot.step == "done"


@pytest.mark.parametrize("lang", LANGS)
def test_danger_from_start_numbers_in_very_next_message(lang):
    bot = Bot()
    bot.cmd("start", lang)  # a language hint from the deep link
    assert bot.state["l"] == lang
    assert _t(lang, "start.safe") in bot.last_text
    bot.tap("danger")
    (msg,) = bot.sends
    for number in ("113", "115", "111"):
        assert number in msg.text
    assert msg.request_location is True
    # question 1: where (a shared location is kept as is, no confirmation)
    bot.send(E.Location(13.98, 108.0))
    assert bot.commands == []
    # question 2: who -> the urgent report goes out
    bot.tap("child")
    (cmd,) = bot.commands
    r = cmd.report
    assert r["urgency"] == "immediate" and r["flow"] == "danger"
    assert r["place"] == {"lat": 13.98, "lon": 108.0}
    assert r["context"] == ["child"]
    assert r["consent"]["referral"]["value"] is True
    assert r["reporter"] == "witness" and r["child_protection"] is True
    bot.send(E.ReportSubmitted("1111222233334444", "c1"))
    assert "1111 2222 3333 4444" in bot.last_text


def test_danger_typed_place_and_no_send():
    bot = start("vi")
    bot.tap("danger")
    bot.text("buon ma thuot")
    assert bot.commands == [C.SearchPlace("buon ma thuot", "vi")]
    bot.send(
        E.PlaceCandidates(
            ({"code": "1", "name": "Phường Buôn Ma Thuột", "province_name": "Đắk Lắk"},)
        )
    )
    bot.tap("c0")
    assert bot.step == "dg.who"
    bot.tap("nosend")
    assert bot.commands == []
    assert bot.step == "dg.nosend"
    assert "113" in bot.last_text
    bot.tap("send")
    bot.tap("me")
    (cmd,) = bot.commands
    assert cmd.report["place"] == {
        "commune_code": "1",
        "commune_name": "Phường Buôn Ma Thuột",
        "province_name": "Đắk Lắk",
    }


@pytest.mark.parametrize("lang", LANGS)
def test_follow_up_all_paths(lang):
    bot = start(lang)
    bot.tap("safe")
    bot.tap("code")
    assert bot.step == "fu.code"
    bot.text("1234")
    assert _t(lang, "bad.code") in bot.last_text
    bot.text("1234-5678 9012 3456")
    assert bot.commands == [C.LookupReceipt("1234567890123456")]
    bot.send(E.CaseNotFound())
    assert _t(lang, "fu.not_found") in bot.last_text
    bot.text("1234 5678 9012 3457")
    bot.send(
        E.CaseFound(
            "case-1",
            "in_progress",
            ({"at": "2026-11-25T10:00:00+00:00", "text": "Chào chị, em là cán bộ hỗ trợ."},),
        )
    )
    assert _t(lang, "status.in_progress") in bot.last_text
    assert "Chào chị, em là cán bộ hỗ trợ." in bot.last_text
    # add information
    bot.tap("add")
    bot.text("Thêm: anh ta lại đến hôm nay.")
    bot.send(E.Media("photo", "p-2"))
    bot.tap("done")
    assert bot.commands == [
        C.AddToReport(
            "case-1", ("Thêm: anh ta lại đến hôm nay.",), ({"kind": "photo", "ref": "p-2"},)
        )
    ]
    bot.send(E.Done("AddToReport"))
    assert _t(lang, "fu.added") in bot.last_text
    # relay a message to the focal point
    bot.tap("reply")
    bot.text("Xin gọi sau 8 giờ tối.")
    bot.tap("done")
    assert bot.commands == [C.RelayToFocal("case-1", ("Xin gọi sau 8 giờ tối.",), ())]
    bot.send(E.Failed("RelayToFocal"))
    assert _t(lang, "note.failed") in bot.last_text
    bot.tap("done")  # the text was kept: sent again
    assert bot.commands == [C.RelayToFocal("case-1", ("Xin gọi sau 8 giờ tối.",), ())]
    bot.send(E.Done("RelayToFocal"))
    # stop contact
    bot.tap("stop")
    bot.tap("y")
    assert bot.commands == [C.StopContact("case-1")]
    bot.send(E.Done("StopContact"))
    assert _t(lang, "fu.stopped") in bot.last_text
    # withdraw and delete
    bot.tap("wd")
    bot.tap("y")
    assert bot.commands == [C.WithdrawCase("case-1"), C.DeleteCase("case-1")]
    bot.send(E.Done("DeleteCase"))
    assert bot.step == "fu.gone"
    assert "case" not in bot.state
    bot.tap("back")
    assert bot.step == "menu"


def test_code_typed_in_a_fresh_chat_and_rate_limit():
    bot = Bot()
    bot.text("1234 5678 9012 3456")
    assert bot.commands == [C.LookupReceipt("1234567890123456")]
    bot.send(E.RateLimited(60))
    assert _t("vi", "fu.rate_limited") in bot.last_text
    bot.cmd("code", "1111-2222-3333-4444-5555")
    assert bot.commands == [C.LookupReceipt("11112222333344445555")]


def test_code_typed_mid_report_keeps_the_draft():
    bot = start("vi")
    bot.tap("safe")
    bot.tap("me")
    bot.tap("rape")
    bot.tap("done")
    assert bot.step == "sv.who"
    bot.text("1234 5678 9012 3456")
    bot.send(E.CaseFound("c", "new", ()))
    bot.tap("back")
    assert bot.step == "sv.who"
    assert bot.state["a"]["types"] == ["rape"]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("topic", ["rights", "services", "lines", "digital", "law"])
def test_information(lang, topic):
    bot = start(lang)
    bot.tap("safe")
    bot.tap("info")
    bot.tap(topic)
    assert bot.step == f"info.{topic}"
    bot.tap("more")
    assert bot.step == "info"
    bot.tap("back")
    assert bot.step == "menu"


@pytest.mark.parametrize("lang", LANGS)
def test_hotlines_say_1900_is_paid(lang):
    text = _t(lang, "info.hotlines")
    assert "1900 96 96 80" in text
    assert ("mất phí" in text) if lang == "vi" else ("paid by the caller" in text)
    assert "111" in text and "113" in text and "115" in text


@pytest.mark.parametrize("lang", LANGS)
def test_start_says_confidential_not_anonymous(lang):
    bot = start(lang)
    assert bot.step == "start"
    assert _t(lang, "start.intro") in bot.last_text
    assert "more" in bot.codes()  # "📖 Read more": the rest of the first message
    bot.tap("more")
    assert bot.step == "start.more"
    more = _t(lang, "start.more")
    assert more in bot.last_text
    if lang == "en":
        assert "anonymous" not in more.lower()
        assert "assigned" in more and "web chat" in more
    else:
        assert "ẩn danh" not in more
        assert "người hỗ trợ được giao" in more and "trang chat trên web" in more
    assert {"safe", "danger", "later"} <= set(bot.codes())  # the same answers from there
    for lang_ in ("vi", "en"):
        for msgid in translator(lang_)._chain[0].messages:
            s = translator(lang_).gettext(msgid)
            # "chế độ / thẻ ẩn danh" is the browser's own name for a private window or tab
            browser = s.lower().replace("chế độ ẩn danh", "").replace("thẻ ẩn danh", "")
            assert "anonymous" not in s.lower() and "ẩn danh" not in browser


def test_quick_exit_everywhere_and_draft_kept():
    bot = start("vi")
    bot.tap("safe")
    bot.tap("me")
    bot.tap("phys")
    bot.tap("done")
    bot.tap_global(A.EXIT)
    assert bot.actions[0] == A.DeleteTracked(None)
    (neutral,) = bot.sends
    assert neutral.text == _t("vi", "exit.neutral") and neutral.options == ()
    assert bot.commands == []  # the draft stays sealed
    assert bot.state["a"]["types"] == ["phys"]
    bot.text("hi")
    assert bot.step == "resume"
    bot.tap("cont")
    assert bot.step == "sv.who"
    bot.cmd("exit")
    assert bot.actions[0] == A.DeleteTracked(None)
    bot.cmd("start")
    bot.tap("new")
    assert bot.commands == [C.DeleteDraft()]
    assert "a" not in bot.state and bot.step == "start"


def test_every_prompt_offers_quick_exit_and_emergency():
    bot = start("vi")
    survivor_answers(bot)
    for _ev, acts, _cmds in bot.history:
        for a in acts:
            if isinstance(a, (A.Send, A.Edit)) and a.options:
                datas = [o.data for o in a.options]
                assert A.EXIT in datas and A.SOS in datas
                assert all(len(d.encode()) <= 32 and d.isascii() for d in datas)


def test_delete_command():
    bot = start("en")
    bot.tap("safe")
    bot.tap("me")
    bot.tap("rape")
    bot.cmd("delete")
    bot.tap("n")
    assert bot.step == "sv.what"
    assert bot.state["a"]["types"] == ["rape"]
    bot.cmd("delete")
    bot.tap("y")
    assert bot.commands == [C.DeleteDraft()]
    assert bot.actions[0] == A.DeleteTracked(None)
    assert "a" not in bot.state and bot.state["l"] == "en"


def test_fix_from_summary_asks_the_group_then_returns():
    bot = start("vi")
    survivor_answers(bot, phone=False)
    bot.tap("fix")
    bot.tap("contact")
    assert bot.step == "sv.contact"
    bot.tap("phone")
    assert bot.step == "sv.phone"
    bot.send(E.Contact("+84 912 000 111"))
    bot.tap("skip")  # safe times
    assert bot.step == "sv.sum"
    bot.tap("fix")
    bot.tap("when")
    bot.tap("earlier")
    assert bot.step == "sv.sum"
    bot.tap("send")
    r = bot.commands[0].report
    assert r["contact"] == {
        "method": "phone",
        "phone": "+84912000111",
        "safe_times": None,
        "status_updates": False,
    }
    assert r["when"] == "earlier" and "within_72h" not in r["context"]


def _to_sv_when(bot: Bot) -> dict:
    bot.tap("safe")
    bot.tap("me")
    bot.tap("rape")
    bot.tap("done")
    bot.tap("stranger")
    assert bot.step == "sv.when"
    return dict(bot.state["a"])


def test_language_switch_at_any_step_keeps_answers():
    bot = start("vi")
    before = _to_sv_when(bot)
    bot.cmd("language")
    bot.tap("l_en")
    assert bot.state["a"] == before
    assert bot.step == "sv.when"
    assert bot.last_text == _t("en", "sv.when")
    bot.tap_global(A.LANG)
    bot.tap("l_vi")  # a full language both ways
    assert bot.last_text == _t("vi", "sv.when")
    assert bot.state["a"] == before and bot.state["l"] == "vi"


def test_choosing_ede_keeps_vietnamese_with_the_notice_and_the_answers():
    bot = start("en")
    before = _to_sv_when(bot)
    bot.tap_global(A.LANG)
    bot.tap("l_rad")  # Ê Đê is not full: a helper who speaks it, the chat in Vietnamese
    assert bot.step == "sv.when" and bot.state["a"] == before
    assert bot.state["l"] == "vi" and bot.state["pl"] == "rad"
    note = _t("vi", "lang.helper_note", language="Ê Đê")
    assert bot.last_text == note + "\n\n" + _t("vi", "sv.when")
    assert note.count("\n") == 0  # one line
    bot.tap("72h")
    assert bot.state["l"] == "vi" and bot.step != "sv.when"
    assert _t("vi", "lang.helper_note", language="Ê Đê") not in bot.last_text  # said once


def test_submit_failure_keeps_answers_and_retries():
    bot = start("vi")
    survivor_answers(bot)
    bot.tap("send")
    first = bot.commands[0]
    bot.send(E.Failed("SubmitReport"))
    assert bot.step == "sv.sum"
    assert _t("vi", "note.failed") in bot.last_text
    bot.tap("send")
    assert bot.commands[0].report["free_text"] == first.report["free_text"]


def test_waiting_for_submit_then_retry_offered_after_a_minute():
    bot = start("vi")
    survivor_answers(bot)
    bot.tap("send")
    bot.text("hello?")
    assert bot.last_text == _t("vi", "wait.text")
    assert "retry" not in bot.codes()
    bot.send(E.Text("?"), tick=120)
    assert "retry" in bot.codes()
    bot.tap("retry")
    assert isinstance(bot.commands[0], C.SubmitReport)


def test_report_after_quick_exit_shows_no_code():
    bot = start("vi")
    survivor_answers(bot)
    bot.tap("send")
    bot.cmd("exit")
    bot.send(E.ReportSubmitted("1234123412341234", "c"))
    assert bot.actions == []
    bot.cmd("start")
    assert _t("vi", "note.sent_after_exit") in bot.last_text
    assert "1234" not in bot.last_text


def test_sos_overlay_returns_and_can_alert():
    bot = start("vi")
    bot.tap("safe")
    bot.tap("me")
    bot.tap_global(A.SOS)
    assert "113" in bot.last_text and "1900 96 96 80" in bot.last_text
    bot.tap("back")
    assert bot.step == "sv.what"
    bot.tap("phys")
    bot.tap_global(A.SOS)
    bot.tap("alert")
    assert bot.step == "dg.loc"
    bot.tap("skip")
    bot.tap("me")
    r = bot.commands[0].report
    assert r["urgency"] == "immediate" and r["types"] == ["physical_assault"]


def test_later_and_help():
    bot = start("vi")
    bot.tap("later")
    assert "113" in bot.last_text
    bot.cmd("help")
    assert "/exit" in bot.last_text
    bot.tap("back")
    assert bot.step == "later"
    bot.tap("ok")
    assert bot.step == "menu"


def test_happening_now_points_to_emergency():
    bot = start("vi")
    bot.tap("safe")
    bot.tap("me")
    bot.tap("done")
    bot.tap("skip")
    bot.tap("now")
    text = bot.last_text
    assert text.startswith(_t("vi", "note.now")) and "113" in text
    assert _t("vi", "note.72h") in text
