"""Triage from evidence: the danger questions of the survivor flow raise the urgency, and
only a "yes" counts (pure: dialogs/triage.py, dialogs/flows.py, dialogs/report.py)."""

from __future__ import annotations

import pytest

from dialogs import commands as C
from dialogs import events as E
from dialogs.flows import DANGER_QUESTIONS
from dialogs.i18n import translator
from dialogs.triage import DANGER_SIGNS, triage
from tests.dialogs.helpers import Bot

SIGNS = [sign for _f, _s, _l, sign in DANGER_QUESTIONS]


def _t(msgid: str, lang: str = "vi") -> str:
    return translator(lang).gettext(msgid)


def to_the_danger_questions() -> Bot:
    bot = Bot()
    bot.cmd("start")
    bot.tap("safe")
    bot.tap("me")
    bot.tap("phys")
    bot.tap("done")
    bot.tap("partner")
    bot.tap("month")  # not "now", not sexual violence: nothing else raises the urgency
    return bot


def finish(bot: Bot, story: str = "") -> dict:
    """From the place question to the sent report (place skipped, chat contact)."""
    assert bot.step == "sv.where"
    bot.tap("skip")
    for _ in range(5):
        bot.tap("skip")
    bot.tap("done")  # needs
    bot.tap("y")  # referral
    bot.tap("done")  # organisations
    bot.tap("n")  # statistics
    bot.tap("chat")
    if story:
        bot.text(story)
    bot.tap("done")
    bot.tap("done")
    assert bot.step == "sv.sum"
    bot.tap("send")
    (cmd,) = bot.commands
    assert isinstance(cmd, C.SubmitReport)
    return cmd.report


def answer(bot: Bot, answers: dict[str, str]) -> None:
    for _field, step_id, _label, sign in DANGER_QUESTIONS:
        assert bot.step == step_id
        bot.tap(answers.get(sign, "skip"))


@pytest.mark.parametrize("sign", SIGNS)
def test_any_yes_raises_the_urgency_to_high_and_says_why(sign):
    bot = to_the_danger_questions()
    answer(bot, {s: ("y" if s == sign else "n") for s in SIGNS})
    report = finish(bot)
    assert report["urgency"] == "high"
    assert report["danger_signs"] == [sign]
    assert report["urgency_reasons"] == [sign]


def test_strangled_and_afraid_to_go_home_is_high_not_normal():
    """The story of finding 6: "bóp cổ tôi… không dám về nhà" was "Bình thường" (24 h)."""
    bot = to_the_danger_questions()
    answer(bot, {"strangulation": "y", "afraid_to_go_home": "y"})
    report = finish(bot, "Anh ấy bóp cổ tôi… tôi không dám về nhà.")
    assert report["urgency"] == "high"
    assert report["urgency_reasons"] == ["strangulation", "afraid_to_go_home"]


def test_skipping_or_no_never_raises_and_a_keyword_in_the_story_alone_does_not_either():
    for choice in ("skip", "n"):
        bot = to_the_danger_questions()
        answer(bot, {s: choice for s in SIGNS})
        report = finish(bot, "Anh ấy bóp cổ tôi, doạ giết tôi.")
        assert report["urgency"] == "normal" and report["urgency_reasons"] == []


def test_no_and_skip_never_lower_what_raised_the_urgency():
    assert triage(danger_now=False, signs=[], child=True) == ("high", ("child",))
    # a child: "no" to every danger question keeps it high
    assert triage(danger_now=False, signs=(), child=True)[0] == "high"
    assert triage(danger_now=True, signs=["weapon"]) == ("immediate", ("danger_now", "weapon"))
    assert triage(danger_now=False, signs=["made-up"]) == ("normal", ())
    assert set(SIGNS) == set(DANGER_SIGNS)


def test_a_yes_to_strangulation_advises_a_doctor_and_the_summary_lists_the_signs():
    bot = to_the_danger_questions()
    assert _t("dq.intro") in bot.last_text and _t("dq.strang") in bot.last_text
    bot.tap("y")
    assert bot.last_text.startswith(_t("note.strangled"))
    answer_rest = {"weapon": "n", "threat_to_kill": "y"}
    for _field, step_id, _label, sign in DANGER_QUESTIONS[1:]:
        assert bot.step == step_id
        bot.tap(answer_rest.get(sign, "skip"))
    bot.tap("skip")  # place
    for _ in range(5):
        bot.tap("skip")
    bot.tap("done")
    bot.tap("n")
    bot.tap("n")
    bot.tap("none")
    bot.tap("done")
    bot.tap("done")
    assert bot.step == "sv.sum"
    line = next(x for x in bot.last_text.splitlines() if _t("sum.danger_signs") in x)
    assert _t("sign.strangulation") in line and _t("sign.threat_to_kill") in line
    assert _t("sign.weapon") not in line
    # correcting the safety answers asks the six again, then returns to the summary
    bot.tap("fix")
    bot.tap("safety")
    answer(bot, {})
    assert bot.step == "sv.sum"
    bot.tap("send")
    assert bot.commands[0].report["urgency"] == "normal"


def test_the_danger_flow_and_the_witness_flow_ask_no_danger_questions():
    bot = Bot()
    bot.cmd("start")
    bot.tap("danger")
    bot.tap("skip")
    assert bot.step == "dg.who"
    bot = Bot()
    bot.cmd("start")
    bot.tap("safe")
    bot.tap("other")
    assert not bot.step.startswith("sv.dq")
    bot.send(E.Text("x"))
    assert not bot.step.startswith("sv.dq")
