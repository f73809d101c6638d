"""``hotline i18n token | revoke | export | import`` (the translators' workshop, issue 21).
The catalogs are a temporary copy; the texts are marked fixtures, never a translation."""

from __future__ import annotations

import asyncio
import re

import pytest
from babel.messages.pofile import read_po
from sqlmodel import select

from storage import translations as store_t
from storage.db import transaction
from storage.models import AuditEvent, Translator
from storage.store import open_store
from tests.bot.test_cli import cli  # noqa: F401 - the fixture
from tests.web.workshop_fixtures import fixture_locales, now, restore


def _in_store(cli, fn):  # noqa: F811
    async def main():
        store = await open_store(cli.url, cli.key_source, create_key=False)
        try:
            async with transaction(store.sessions) as session:
                return await fn(store, session)
        finally:
            await store.close()

    return asyncio.run(main())


@pytest.fixture
def locales(tmp_path, monkeypatch):
    yield fixture_locales(tmp_path, monkeypatch)
    restore(monkeypatch)


def test_a_token_is_printed_once_stored_as_a_hash_and_revocable(cli, locales):  # noqa: F811
    assert cli("init").exit_code == 0
    done = cli("i18n", "token", "rad", "--name", "Translator A")
    assert done.exit_code == 0, done.output
    translator_id, token = re.search(
        r"Translator (tr-\w+) \(rad\)\. .*: (\S+)", done.output
    ).groups()

    async def read(_store, session):
        rows = (await session.exec(select(Translator))).all()
        events = (await session.exec(select(AuditEvent.action))).all()
        return rows, events

    rows, events = _in_store(cli, read)
    (row,) = rows
    assert row.id == translator_id and token not in row.token_hash
    assert b"Translator A" not in (row.name or b"")  # sealed
    assert "i18n.token_issued" in events
    assert cli("i18n", "token", "vi", "--name", "X").exit_code == 2  # a source language
    assert cli("i18n", "revoke", translator_id).exit_code == 0
    found = _in_store(cli, lambda store, s: store_t.by_token(s, store.vault, token))
    assert found is None
    assert cli("i18n", "revoke", "tr-nobody").exit_code == 2


def test_export_to_a_file_and_import_of_an_edited_file(cli, locales, tmp_path):  # noqa: F811
    assert cli("init").exit_code == 0
    out = cli("i18n", "token", "rad", "--name", "A").output
    a_id = re.search(r"(tr-\w+)", out).group(1)

    async def seed(_store, session):
        await store_t.save_draft(
            session, "rad", "sv.when", ("[rad fixture] draft",), by=a_id, now=now()
        )

    _in_store(cli, seed)
    target = tmp_path / "rad.po"
    done = cli("i18n", "export", "rad", "--out", str(target))
    assert done.exit_code == 0, done.output
    with target.open("rb") as fh:
        cat = read_po(fh)
    entry = cat.get("sv.when")
    assert entry.string == "[rad fixture] draft" and entry.fuzzy  # a draft is fuzzy
    assert "[rad fixture]" not in (locales / "rad/LC_MESSAGES/messages.po").read_text("utf-8")
    text = target.read_text("utf-8").replace("[rad fixture] draft", "[rad fixture] {ref} draft")
    target.write_text(text, "utf-8")
    done = cli("i18n", "import", "rad", str(target), "--by", a_id)
    assert done.exit_code == 0 and "1 refused" in done.output and "{ref}" in done.output
    assert cli("i18n", "import", "rad", str(target), "--by", "tr-nobody").exit_code == 2
