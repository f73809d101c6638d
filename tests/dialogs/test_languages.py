"""Honest language choice (pure): full only when every survivor text is reviewed."""

from __future__ import annotations

from datetime import UTC, datetime

from dialogs import events as E
from dialogs import handle, languages
from dialogs.i18n import translator

NOW = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)


def test_survivor_texts_come_from_the_flows_and_number_about_350_to_400():
    ids = languages.survivor_texts()
    assert languages.flow_texts() <= ids
    assert {"wt.rel", "start.intro", "push.reply", "ch.zalo.intro"} <= ids
    assert not any(i.startswith(("webf.", "focal.")) for i in ids)
    assert 330 <= len(ids) <= 450


def test_only_source_languages_are_full_today():
    full = {s.lang for s in languages.statuses() if s.full}
    assert full == {"vi", "en"}
    assert languages.status("rad").reviewed == 0


def test_picker_offers_a_not_full_language_as_a_helper_who_speaks_it():
    labels = dict(languages.picker())
    assert labels["rad"] == "Êđê — người hỗ trợ nói tiếng Ê Đê"
    assert labels["en"] == "English"


def test_choosing_ede_keeps_vietnamese_says_so_once_and_stores_the_preference():
    st, _, _ = handle(None, E.Command("start"), NOW)
    st, acts, _ = handle(st, E.Command("language"), NOW)
    st, acts, _ = handle(st, E.Choice(f"{format(st['n'], 'x')}.l_rad"), NOW)
    assert st["l"] == "vi" and st["pl"] == "rad"
    note = translator("vi").gettext("lang.helper_note", language="Ê Đê")
    assert "\n" not in note
    assert acts[-1].text.startswith(note)
    assert languages.preferred_language(st) == "rad"
    assert languages.preferred_language({"l": "en"}) == "en"


def test_unreviewed_draft_is_never_shown(tmp_path, monkeypatch):
    from dialogs import i18n

    src = i18n.po_path("rad").read_text(encoding="utf-8")
    src = src.replace('msgid "opt.yes"\nmsgstr ""', 'msgid "opt.yes"\nmsgstr "Draft"')
    src = src.replace('msgid "opt.no"\nmsgstr ""', '#, reviewed\nmsgid "opt.no"\nmsgstr "Ơh"')
    root = tmp_path / "locales"
    for lang in i18n.LANGUAGES:
        d = root / lang / "LC_MESSAGES"
        d.mkdir(parents=True)
        text = src if lang == "rad" else i18n.po_path(lang).read_text(encoding="utf-8")
        d.joinpath("messages.po").write_text(text, "utf-8")
    (root / "messages.pot").write_text(
        (i18n.locales_dir() / "messages.pot").read_text(encoding="utf-8"), "utf-8"
    )
    monkeypatch.setattr(i18n, "locales_dir", lambda: root)
    i18n.clear_cache()
    try:
        tr = translator("rad")
        assert tr.gettext("opt.yes") == translator("vi").gettext("opt.yes")
        assert tr.gettext("opt.no") == "Ơh"
        st = languages.status("rad")
        assert (st.translated, st.reviewed, st.full) == (2, 1, False)
    finally:
        monkeypatch.undo()
        i18n.clear_cache()
