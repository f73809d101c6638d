"""Ethnic group and migrant status in the survivor flow (issue 20): asked after disability
with her province's groups first, skippable, "prefer not to say", a typed name matched to
its official code, shown on her summary and correctable, and reported only as codes and
only when she agreed to be counted."""

from __future__ import annotations

import pytest

from dialogs import commands as C
from dialogs import ethnic
from dialogs import events as E
from dialogs.i18n import translator
from tests.dialogs.helpers import Bot, skip_danger_questions


def _t(msgid: str, lang: str = "vi") -> str:
    return translator(lang).gettext(msgid)


def at_ethnic(province: str | None = "Đắk Lắk", lang: str | None = None) -> Bot:
    bot = Bot(lang)
    if lang is None:
        bot.cmd("start")
    bot.tap("safe")
    bot.tap("me")
    bot.tap("skip")  # what
    bot.tap("skip")  # who
    bot.tap("skip")  # when
    skip_danger_questions(bot)
    if province is None:
        bot.tap("skip")
    else:
        bot.text("Ea Tu")
        bot.send(
            E.PlaceCandidates(({"code": "24121", "name": "Ea Tu", "province_name": province},))
        )
        bot.tap("c0")
    for code in ("skip", "skip", "skip"):  # age, sex, disability
        bot.tap(code)
    assert bot.step == "sv.eth"
    return bot


def to_summary(bot: Bot, *, counted: bool) -> None:
    bot.tap("skip")  # needs
    bot.tap("n")  # no sharing
    bot.tap("y" if counted else "n")  # statistics
    bot.tap("none")  # no contact
    bot.tap("done")
    bot.tap("done")
    assert bot.step == "sv.sum"


def sent_report(bot: Bot) -> dict:
    bot.tap("send")
    (cmd,) = bot.commands
    assert isinstance(cmd, C.SubmitReport)
    return cmd.report


@pytest.mark.parametrize(
    ("province", "first"),
    [
        ("Đắk Lắk", ("kinh", "ede", "jrai", "mnong", "bahnar", "tay", "nung", "hmong", "dao")),
        ("Tỉnh Ninh Bình", ("kinh", "muong")),
        ("Thành phố Hà Nội", ("kinh", "muong", "dao")),
        ("Đắk Nông", ("kinh", "mnong", "ede", "hmong", "tay", "nung")),
        (None, ethnic.DEFAULT_SHORTLIST),
    ],
)
def test_her_provinces_groups_come_first_then_another_group_and_prefer_not(province, first):
    bot = at_ethnic(province)
    assert _t("sv.eth") in bot.last_text and _t("eth.why") in bot.last_text
    assert bot.codes() == [*first, "other", "pns", "skip"]


def test_the_54_groups_carry_the_official_codes():
    assert len(ethnic.GROUPS) == 54
    assert [code for code, _slug, _label in ethnic.GROUPS] == [f"{i:02d}" for i in range(1, 55)]
    assert ethnic.gso_code("kinh") == "01" and ethnic.gso_code("ede") == "12"
    assert ethnic.gso_code("jrai") == "10" and ethnic.gso_code("mnong") == "20"
    assert ethnic.gso_code("romam") == "54"
    names = {_t(label) for _code, _slug, label in ethnic.GROUPS}
    assert len(names) == 54  # one Vietnamese name each, none left as a message id
    assert not any(name.startswith("eth.") for name in names)


@pytest.mark.parametrize(
    ("typed", "slug"),
    [("Ê Đê", "ede"), ("ede", "ede"), ("M'nông", "mnong"), ("mnong", "mnong"),
     ("người H'Mông", "hmong"), ("Gia Rai", "jrai"), ("JRAI", "jrai"), ("Ba Na", "bahnar"),
     ("xơ-đăng", "sedang"), ("Thái", "thai"), ("Khơ-me", "khmer"), ("dân tộc Mường", "muong")],
)  # fmt: skip
def test_a_typed_name_is_folded_and_matched(typed, slug):
    assert ethnic.match(typed) == slug


def test_a_group_not_on_the_shortlist_is_typed_and_reported_as_its_code():
    bot = at_ethnic("Đắk Lắk")
    bot.tap("other")
    assert bot.step == "sv.eth_other" and _t("eth.type") in bot.last_text
    bot.text("không rõ lắm")  # no group's name: asked again, nothing kept
    assert bot.step == "sv.eth_other" and _t("eth.unknown") in bot.last_text
    assert "không rõ" not in str(bot.state)
    bot.text("Thái")
    assert bot.step == "sv.mig" and _t("sv.mig") in bot.last_text
    bot.tap("y")
    to_summary(bot, counted=True)
    assert f"{_t('sum.ethnic')}: {_t('eth.thai')}" in bot.last_text
    assert f"{_t('sum.migrant')}: {_t('opt.yes')}" in bot.last_text
    report = sent_report(bot)
    assert report["ethnic_code"] == "03" and report["migrant"] is True
    assert "Thái" not in str(report) and "thai" not in str(report)


def test_a_name_typed_at_the_question_itself_is_matched_too():
    bot = at_ethnic("Đắk Lắk")
    bot.text("Xtiêng")  # not on Đắk Lắk's list
    assert bot.step == "sv.mig"
    bot.tap("n")
    to_summary(bot, counted=True)
    report = sent_report(bot)
    assert report["ethnic_code"] == "22" and report["migrant"] is False


@pytest.mark.parametrize("answer", ["skip", "pns"])
def test_skip_and_prefer_not_to_say_report_nothing(answer):
    bot = at_ethnic("Đắk Lắk")
    bot.tap(answer)
    assert bot.step == "sv.mig"
    assert bot.codes() == ["y", "n", "pns", "skip"]
    bot.tap(answer)
    to_summary(bot, counted=True)
    shown = _t("opt.prefer_not") if answer == "pns" else _t("sum.skipped")
    assert f"{_t('sum.ethnic')}: {shown}" in bot.last_text
    assert f"{_t('sum.migrant')}: {shown}" in bot.last_text
    report = sent_report(bot)
    assert report["ethnic_code"] is None and report["migrant"] is None


def test_without_consent_to_be_counted_the_answers_are_not_reported():
    bot = at_ethnic("Đắk Lắk")
    bot.tap("ede")
    bot.tap("y")
    to_summary(bot, counted=False)
    report = sent_report(bot)
    assert report["consent"]["statistics"]["value"] is False
    assert report["ethnic_code"] is None and report["migrant"] is None
    assert "ede" not in str({k: v for k, v in report.items() if k != "place"})


def test_correcting_about_her_asks_both_again_and_back_to_the_summary():
    bot = at_ethnic("Đắk Lắk")
    bot.tap("ede")
    bot.tap("n")
    to_summary(bot, counted=True)
    assert f"{_t('sum.ethnic')}: {_t('eth.ede')}" in bot.last_text
    bot.tap("fix")
    bot.tap("about")
    for code in ("skip", "skip", "skip"):  # age, sex, disability
        bot.tap(code)
    assert bot.step == "sv.eth"
    bot.tap("jrai")
    bot.tap("pns")
    assert bot.step == "sv.sum"
    assert f"{_t('sum.ethnic')}: {_t('eth.jrai')}" in bot.last_text
    assert f"{_t('sum.migrant')}: {_t('opt.prefer_not')}" in bot.last_text
    report = sent_report(bot)
    assert report["ethnic_code"] == "10" and report["migrant"] is None


def test_english_labels_and_a_typed_english_name():
    bot = at_ethnic("Đắk Lắk", lang="en")
    assert _t("sv.eth", "en") in bot.last_text
    bot.tap("other")
    bot.text("Sedang")
    assert bot.step == "sv.mig"
    bot.tap("n")
    to_summary(bot, counted=True)
    assert f"{_t('sum.ethnic', 'en')}: {_t('eth.sedang', 'en')}" in bot.last_text
    assert sent_report(bot)["ethnic_code"] == "14"
