"""The workshop's rules (pure): placeholders and plural forms checked, the second reviewer,
where a text appears and progress per flow."""

from __future__ import annotations

from dialogs import workshop as W


def _info(vi: str, *, plural: bool = False, group: str = "sv") -> W.TextInfo:
    return W.TextInfo(
        "x.y", "x.y_pl" if plural else None, (vi,), (vi,), (), (), group, W.placeholders(vi)
    )


def test_a_missing_or_extra_placeholder_is_refused_by_name():
    info = _info("Mã của bạn là {ref}.")
    assert W.check(("Code {ref}",), info, 1) == []
    assert W.check(("Code",), info, 1) == [W.Problem(W.MISSING, "{ref}")]
    assert W.check(("Code {ref} {phone}",), info, 1) == [W.Problem(W.EXTRA, "{phone}")]
    assert W.check(("Code {ref",), info, 1) == [W.Problem(W.BROKEN)]
    assert W.check(("  ",), info, 1) == [W.Problem(W.EMPTY)]


def test_plural_forms_follow_the_language():
    info = _info("{n} tin nhắn", plural=True)
    assert W.check(("{n} msg",), info, 1) == []
    assert W.check(("{n} msg",), info, 2) == [W.Problem(W.FORMS, "2")]
    assert W.check(("one message", "{n} messages"), info, 2) == []  # the singular may say "one"


def test_the_author_of_a_draft_cannot_review_it():
    assert not W.may_review("tr-a", "tr-a")
    assert W.may_review("tr-a", "tr-b")
    assert W.may_review(None, "tr-b")  # imported from a file without --by


def test_where_a_text_appears_and_progress_per_flow():
    texts = W.texts(
        [("sv.what", None, ("dialogs/flows.py",)), ("fu.n_messages", "fu.n_messages_pl", ())],
        {"sv.what": "Chuyện gì?", "fu.n_messages": ("{n} tin",)},
        {},
        frozenset(),
    )
    what, follow = texts
    assert "sv.what" in what.steps and what.group == "sv" and what.files == ("dialogs/flows.py",)
    assert follow.group == "fu" and follow.plural and follow.placeholders == {"n"}
    rows = W.progress(texts, {"sv.what": W.REVIEWED, "fu.n_messages": W.DRAFT})
    assert [(p.group, p.reviewed, p.drafted, p.total) for p in rows] == [
        ("sv", 1, 0, 1),
        ("fu", 0, 1, 1),
    ]
