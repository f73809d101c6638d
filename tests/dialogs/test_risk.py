"""The risk check's rule (dialogs.risk): what screens in, and urgency never lowered."""

from __future__ import annotations

import doctest
import itertools

from dialogs import risk


def test_doctests():
    assert doctest.testmod(risk).failed == 0


def test_each_high_danger_question_screens_in_alone():
    for code in risk.ALONE:
        assert risk.screened_in({code: "yes"})
        assert risk.urgency_after("normal", {code: "yes"}) == "high"


def test_the_other_two_screen_in_only_together():
    assert not risk.screened_in({"jealous_control": "yes"})
    assert not risk.screened_in({"escalating": "yes"})
    assert risk.screened_in({"jealous_control": "yes", "escalating": "yes"})


def test_no_answers_never_lower_and_never_make_immediate():
    for current, answers in itertools.product(
        ("immediate", "high", "normal"),
        (
            {},
            {c: "no" for c in risk.CODES},
            {c: "yes" for c in risk.CODES},
            {c: "unknown" for c in risk.CODES},
        ),
    ):
        after = risk.urgency_after(current, answers)
        order = ("normal", "high", "immediate")
        assert order.index(after) >= order.index(current)
        assert after != "immediate" or current == "immediate"


def test_forms_are_read_strictly():
    answers = risk.answers_from({"weapon": "YES", "might_kill": "yes", "other": "yes"})
    assert answers["weapon"] == "unknown" and answers["might_kill"] == "yes"
    assert set(answers) == set(risk.CODES)
    plan = risk.plan_from({"safe_place": "  a   b ", "signal": "", "x": "y", "contacts": "c" * 999})
    assert plan == {"safe_place": "a b", "contacts": "c" * risk.PLAN_MAX}
