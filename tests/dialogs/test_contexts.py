"""The contexts the provincial plans report beside the GBVIMS types (issue 20): trafficking,
child or forced marriage (a marriage to a blood relative included), online, workplace and
school, reported as ``counted_contexts`` only when she agreed to be counted."""

from __future__ import annotations

import pytest

from dialogs import commands as C
from dialogs.report import COUNTED_CONTEXTS, category_of
from tests.dialogs.helpers import Bot, skip_danger_questions


def report_of(types: tuple[str, ...], *, age: str = "skip", counted: bool = True) -> dict:
    bot = Bot()
    bot.cmd("start")
    bot.tap("safe")
    bot.tap("me")
    for code in types:
        bot.tap(code)
    bot.tap("done")
    bot.tap("skip")  # who
    bot.tap("skip")  # when
    skip_danger_questions(bot)
    bot.tap("skip")  # where
    for code in (age, "skip", "skip", "skip", "skip"):  # age, sex, disability, ethnic, migrant
        bot.tap(code)
    bot.tap("skip")  # needs
    bot.tap("n")  # no sharing
    bot.tap("y" if counted else "n")  # statistics
    bot.tap("none")
    bot.tap("done")
    bot.tap("done")
    bot.tap("send")
    (cmd,) = bot.commands
    assert isinstance(cmd, C.SubmitReport)
    return cmd.report


@pytest.mark.parametrize(
    ("types", "age", "category", "contexts"),
    [
        (("traff",), "skip", "unknown", ["trafficking"]),
        (("marr",), "skip", "forced_marriage", ["child_or_forced_marriage"]),
        (("marr",), "a12", "forced_marriage", ["child_or_forced_marriage"]),
        (("kin",), "skip", "forced_marriage", ["child_or_forced_marriage"]),
        (("online",), "skip", "psychological_abuse", ["online"]),
        (("work",), "skip", "psychological_abuse", ["workplace"]),
        (("school",), "skip", "psychological_abuse", ["school"]),
        (("phys", "school", "online"), "skip", "physical_assault", ["online", "school"]),
        (("psy",), "skip", "psychological_abuse", []),
    ],
)
def test_each_plan_context_is_a_reportable_column(types, age, category, contexts):
    report = report_of(types, age=age)
    assert report["category"] == category
    assert report["counted_contexts"] == contexts
    assert set(contexts) <= set(report["context"])


def test_child_marriage_and_a_blood_relative_are_both_told_apart_in_the_context():
    report = report_of(("kin",), age="a12")
    assert report["types"] == ["consanguineous_marriage"]
    assert {"early_marriage", "consanguineous_marriage", "child_or_forced_marriage"} <= set(
        report["context"]
    )


def test_without_consent_to_be_counted_no_context_is_reported_for_statistics():
    report = report_of(("traff", "school"), counted=False)
    assert report["counted_contexts"] == []
    assert report["context"] == ["trafficking", "school"]  # for her helpers, sealed


def test_the_columns_are_the_plans_and_school_is_one():
    assert COUNTED_CONTEXTS == (
        "trafficking",
        "child_or_forced_marriage",
        "online",
        "workplace",
        "school",
    )
    assert category_of(["consanguineous_marriage", "physical_assault"]) == "physical_assault"
