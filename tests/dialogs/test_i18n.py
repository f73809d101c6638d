"""Catalogs: complete vi/en, not stale, fallback to Vietnamese, plurals, NFC, dates."""

from __future__ import annotations

import re
import string
import unicodedata
from datetime import UTC, datetime

import pytest

from dialogs import catalog_status, render_numbered
from dialogs.actions import Option
from dialogs.i18n import (
    COMPLETE,
    LANGUAGES,
    catalog_ids,
    load_catalog,
    po_path,
    pot_ids,
    template_ids,
    translator,
)

MINORITY = [lang for lang in LANGUAGES if lang not in COMPLETE]


@pytest.fixture(scope="module")
def ids():
    return template_ids()


def test_catalogs_exist_for_every_language():
    for lang in LANGUAGES:
        assert po_path(lang).exists(), lang


def test_template_not_stale_against_the_code(ids):
    assert pot_ids() == ids


@pytest.mark.parametrize("lang", LANGUAGES)
def test_catalogs_not_stale_against_the_code(ids, lang):
    """Extract with Babel and compare msgids: run `python -m dialogs.i18n update` to fix."""
    assert catalog_ids(lang) == ids


@pytest.mark.parametrize("lang", COMPLETE)
def test_vi_and_en_complete_and_not_fuzzy(ids, lang):
    cat = load_catalog(lang)
    missing = sorted(i for i in ids if i not in cat.messages)
    assert missing == []
    assert cat.fuzzy == 0


@pytest.mark.parametrize("lang", MINORITY)
def test_minority_fall_back_to_vietnamese_message_by_message(ids, lang):
    tr, vi = translator(lang), translator("vi")
    own = load_catalog(lang).messages
    for msgid in ids:
        got = tr.gettext(msgid)
        assert got != msgid  # never a raw message id
        if msgid not in own:
            assert got == vi.gettext(msgid)


def test_partial_translation_is_used_and_rest_falls_back(tmp_path, monkeypatch):
    """A community translation of one entry is used; the others fall back to Vietnamese."""
    from dialogs import i18n

    src = po_path("rad").read_text(encoding="utf-8")
    # ơ̆ is o-horn + U+0306 (no precomposed form); write it decomposed to check NFC
    decomposed = unicodedata.normalize("NFD", "Ơ̆") + " test"
    src = src.replace(
        'msgid "opt.yes"\nmsgstr ""', f'#, reviewed\nmsgid "opt.yes"\nmsgstr "{decomposed}"'
    )
    src = src.replace(
        'msgid "acc.n_texts"\nmsgid_plural "acc.n_texts_pl"\nmsgstr[0] ""',
        '#, reviewed\nmsgid "acc.n_texts"\nmsgid_plural "acc.n_texts_pl"\nmsgstr[0] "{n} klei"',
    )
    # a draft nobody reviewed yet: never shown
    src = src.replace('msgid "opt.no"\nmsgstr ""', 'msgid "opt.no"\nmsgstr "DRAFT-NOT-REVIEWED"')
    root = tmp_path / "locales"
    for lang in LANGUAGES:
        d = root / lang / "LC_MESSAGES"
        d.mkdir(parents=True)
        d.joinpath("messages.po").write_text(
            src if lang == "rad" else po_path(lang).read_text(encoding="utf-8"), "utf-8"
        )
    monkeypatch.setattr(i18n, "locales_dir", lambda: root)
    i18n.clear_cache()
    try:
        tr = translator("rad")
        assert tr.gettext("opt.yes") == unicodedata.normalize("NFC", decomposed)
        assert tr.gettext("opt.no") == translator("vi").gettext("opt.no")  # unreviewed: not shown
        assert "opt.no" in load_catalog("rad").translated  # it is there, only not reviewed
        assert "opt.no" not in load_catalog("rad").reviewed
        # plural forms where Babel has no locale: nplurals=1; plural=0
        assert load_catalog("rad").nplurals == 1
        assert tr.ngettext("acc.n_texts", "acc.n_texts_pl", 1) == "1 klei"
        assert tr.ngettext("acc.n_texts", "acc.n_texts_pl", 5) == "5 klei"
    finally:
        monkeypatch.undo()
        i18n.clear_cache()


@pytest.mark.parametrize("lang", ["rad", "jra", "mng", "bdq", "hmn"])
def test_forced_plural_header_for_locales_babel_lacks(lang):
    text = po_path(lang).read_text(encoding="utf-8")
    assert '"Plural-Forms: nplurals=1; plural=0;\\n"' in text
    assert f'"Language: {lang}\\n"' in text
    assert load_catalog(lang).nplurals == 1


@pytest.mark.parametrize(
    "lang,expected",
    [
        ("vi", {1: "1 tin nhắn", 2: "2 tin nhắn", 5: "5 tin nhắn"}),
        ("en", {1: "1 message", 2: "2 messages", 5: "5 messages"}),
        # Khmer has no translation yet: Vietnamese, message by message
        ("km", {1: "1 tin nhắn", 2: "2 tin nhắn", 5: "5 tin nhắn"}),
    ],
)
def test_plural_texts_render_right_for_any_count(lang, expected):
    tr = translator(lang)
    for n, text in expected.items():
        assert tr.ngettext("acc.n_texts", "acc.n_texts_pl", n) == text


@pytest.mark.parametrize("lang", LANGUAGES)
def test_plural_entries_have_as_many_forms_as_their_catalog_says(lang):
    """The catalog's own Plural-Forms rule is used, so it must fit its translations."""
    cat = load_catalog(lang)
    for msgid, value in cat.messages.items():
        if isinstance(value, tuple):
            assert len(value) == cat.nplurals, msgid
    for n in range(0, 30):
        assert 0 <= int(cat.plural(n)) < cat.nplurals


def test_the_catalogs_plural_rule_wins_over_the_installed_cldr(tmp_path, monkeypatch):
    """A catalog written for one form keeps one form, whatever Babel's CLDR says today."""
    from dialogs import i18n

    root = tmp_path / "locales"
    for lang in LANGUAGES:
        d = root / lang / "LC_MESSAGES"
        d.mkdir(parents=True)
        text = po_path(lang).read_text(encoding="utf-8")
        if lang == "en":  # an English catalog that declares a single form
            text = re.sub(
                r'"Plural-Forms: [^"]*\\n"', '"Plural-Forms: nplurals=1; plural=0;\\n"', text
            )
        d.joinpath("messages.po").write_text(text, "utf-8")
    monkeypatch.setattr(i18n, "locales_dir", lambda: root)
    i18n.clear_cache()
    try:
        assert load_catalog("en").nplurals == 1
        assert translator("en").ngettext("acc.n_texts", "acc.n_texts_pl", 5) == "5 message"
    finally:
        monkeypatch.undo()
        i18n.clear_cache()


def _fields(s: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(s) if f}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_placeholders_match_vietnamese(lang):
    vi = load_catalog("vi").messages
    for msgid, value in load_catalog(lang).messages.items():
        ref = vi[msgid]
        ref_s = ref if isinstance(ref, str) else ref[0]
        for form in value if isinstance(value, tuple) else (value,):
            assert _fields(form) == _fields(ref_s), (lang, msgid)


@pytest.mark.parametrize("lang", COMPLETE)
def test_texts_are_nfc_and_within_telegram_limits(lang):
    for msgid, value in load_catalog(lang).messages.items():
        for form in value if isinstance(value, tuple) else (value,):
            assert unicodedata.is_normalized("NFC", form)
            assert len(form) < 3000, msgid


def test_broken_translation_placeholder_falls_back():
    tr = translator("vi")
    assert "4.000" in tr.gettext("bad.too_long", limit="4.000")
    # a translation missing a placeholder argument never raises
    assert tr.gettext("bad.too_long") == tr.gettext("bad.too_long")


def test_dates_in_vietnam_time_and_documented_fallback():
    dt = datetime(2026, 3, 5, 1, 30, tzinfo=UTC)  # 08:30 in Vietnam
    # the hotline's part is the time zone; the pattern around it is CLDR's
    vi = translator("vi").format_datetime(dt)
    assert "8:30" in vi and "1:30" not in vi and "5" in vi
    en = translator("en").format_datetime(dt)
    assert "8:30" in en and "1:30" not in en
    # Babel lacks rad: the Vietnamese format is used
    assert translator("rad").format_datetime(dt) == vi


def test_catalog_status_shape():
    rows = catalog_status()
    assert [r[0] for r in rows] == list(LANGUAGES)
    for lang, done, total, fuzzy in rows:
        assert total == len(template_ids()) and fuzzy == 0
        if lang in COMPLETE:
            assert done == total
        assert 0 <= done <= total


def test_status_cli_prints_every_language(capsys):
    from dialogs.i18n import main

    main(["status"])
    out = capsys.readouterr().out
    for lang in LANGUAGES:
        assert re.search(rf"^{lang}\s", out, re.M)


@pytest.mark.parametrize("lang,hint", [("vi", "Trả lời 1, 2 hoặc 3."), ("en", "Reply 1, 2 or 3.")])
def test_render_numbered(lang, hint):
    opts = [Option("1.a", "A"), Option("1.b", "B"), Option("x", "C")]
    out = render_numbered("Q?", opts, lang)
    assert out == f"Q?\n\n1. A\n2. B\n3. C\n\n{hint}"
    assert render_numbered("Q?", [Option("1.a", "A")], lang).endswith(
        "Trả lời 1." if lang == "vi" else "Reply 1."
    )
