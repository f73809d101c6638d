"""Storage on SQLite and PostgreSQL: schema, round trips, canaries, tampering, shredding."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import text, update
from sqlmodel import select

from storage import cases, migrate
from storage.db import transaction
from storage.errors import IntegrityError, ShreddedError
from storage.models import (
    SEALED_COLUMNS,
    Case,
    CaseMessage,
    CaseTask,
    Conversation,
    DataKey,
    FocalPoint,
    Shelter,
)
from storage.records import data_key_of, new_data_key, open_all, open_from, seal_into
from storage.store import open_store
from tests.conftest import Database

NOW = datetime(2026, 11, 25, 8, 30, tzinfo=UTC)


def canary(table: str, column: str) -> str:
    return f"CANARY-{table}-{column}-Đắk-ƀ"


async def _store_everything(store) -> dict[str, str]:
    """One row of every table with sealed columns, each column holding its own canary."""
    async with transaction(store.sessions) as session:
        new = cases.NewCase(
            channel="telegram",
            reporter="survivor",
            urgency="high",
            sealed={col: {"value": canary("cases", col)} for col in SEALED_COLUMNS["cases"]},
        )
        case, code = await cases.create_case(session, store.vault, new, now=NOW)

        key_id, aead = await new_data_key(session, store.vault)
        message = CaseMessage(
            id="m1",
            case_id=case.id,
            data_key_id=case.data_key_id,
            sender="survivor",
            created_at=NOW,
        )
        seal_into(
            store.vault,
            await data_key_of(session, store.vault, case),
            message,
            body=canary("case_messages", "body"),
        )
        session.add(message)

        task = CaseTask(
            id="t1",
            case_id=case.id,
            data_key_id=case.data_key_id,
            focal_point_id="fp-1",
            created_at=NOW,
            due_at=NOW,
        )
        seal_into(
            store.vault,
            await data_key_of(session, store.vault, case),
            task,
            body=canary("case_tasks", "body"),
        )

        conversation = Conversation(
            key="k" * 64, data_key_id=key_id, expires_at=NOW + timedelta(days=3)
        )
        seal_into(
            store.vault, aead, conversation, state={"draft": canary("conversations", "state")}
        )
        session.add(conversation)

        fp_key, fp_aead = await new_data_key(session, store.vault)
        focal = FocalPoint(
            id="fp-1", data_key_id=fp_key, place_scheme="2025", province_code="66", role="primary"
        )
        seal_into(
            store.vault,
            fp_aead,
            focal,
            **{c: canary("focal_points", c) for c in SEALED_COLUMNS["focal_points"]},
        )
        session.add(focal)
        await session.flush()
        session.add(task)  # assigned to the focal point, once it is there

        sh_key, sh_aead = await new_data_key(session, store.vault)
        shelter = Shelter(
            id="sh-1",
            data_key_id=sh_key,
            place_scheme="2025",
            province_code="66",
            commune_code="24",
            kind="trusted_address",
        )
        seal_into(
            store.vault,
            sh_aead,
            shelter,
            **{c: canary("shelters", c) for c in SEALED_COLUMNS["shelters"]},
        )
        session.add(shelter)
    return {"case_id": case.id, "code": code}


async def test_schema_is_at_the_alembic_head(store):
    assert await migrate.current_revision(store.engine) == migrate.head_revision()


async def test_models_and_migrations_agree(store):
    """Autogenerate finds nothing to do: the migrations create exactly the models' schema."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlmodel import SQLModel

    def diff(connection):
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, SQLModel.metadata)

    async with store.engine.connect() as connection:
        differences = await connection.run_sync(diff)
    assert differences == []


async def test_sqlite_runs_in_wal_with_foreign_keys(tmp_path, key_source):
    opened = await open_store(f"sqlite:///{tmp_path / 'h.db'}", key_source)
    try:
        async with opened.engine.connect() as connection:
            assert (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
            assert (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1
    finally:
        await opened.close()


async def test_case_round_trip_by_receipt(store):
    async with transaction(store.sessions) as session:
        new = cases.NewCase(
            channel="web",
            reporter="witness",
            commune_code="24",
            sealed={"narrative": "xin chào 👋"},
        )
        case, code = await cases.create_case(session, store.vault, new, now=NOW)
    assert len(cases.normalise_receipt_code(code)) == 16
    async with transaction(store.sessions) as session:
        found = await cases.find_by_receipt(session, store.vault, code.replace(" ", "-"))
        assert found is not None and found.id == case.id
        assert found.created_at == NOW and found.created_at.tzinfo is not None
        opened = await cases.open_case(session, store.vault, found)
        assert opened["narrative"] == "xin chào 👋"
        assert await cases.find_by_receipt(session, store.vault, "0000 0000 0000 0000") is None
        assert await cases.find_by_receipt(session, store.vault, "not a code") is None


async def test_canaries_never_reach_disk_or_logs_in_plaintext(store, database: Database, caplog):
    caplog.set_level(logging.DEBUG)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)  # log every statement
    try:
        ids = await _store_everything(store)
        async with transaction(store.sessions) as session:
            case = await session.get(Case, ids["case_id"])
            opened = await cases.open_case(session, store.vault, case)
            assert opened == {c: {"value": canary("cases", c)} for c in SEALED_COLUMNS["cases"]}
            message = await session.get(CaseMessage, "m1")
            aead = await data_key_of(session, store.vault, case)
            assert open_from(store.vault, aead, message, "body") == canary("case_messages", "body")
            task = await session.get(CaseTask, "t1")
            assert open_from(store.vault, aead, task, "body") == canary("case_tasks", "body")
            conversation = (await session.exec(select(Conversation))).one()
            state = open_all(
                store.vault, await data_key_of(session, store.vault, conversation), conversation
            )
            assert state == {"state": {"draft": canary("conversations", "state")}}
            focal = await session.get(FocalPoint, "fp-1")
            assert open_all(store.vault, await data_key_of(session, store.vault, focal), focal) == {
                c: canary("focal_points", c) for c in SEALED_COLUMNS["focal_points"]
            }
            shelter = await session.get(Shelter, "sh-1")
            assert open_all(
                store.vault, await data_key_of(session, store.vault, shelter), shelter
            ) == {c: canary("shelters", c) for c in SEALED_COLUMNS["shelters"]}
    finally:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)

    raw = database.raw_bytes()
    logs = caplog.text.encode()
    assert b"INSERT INTO cases" in logs  # the statements were logged; their values were not
    for table, columns in SEALED_COLUMNS.items():
        for column in columns:
            needle = canary(table, column).encode()
            assert needle not in raw, f"{table}.{column} in plaintext on disk"
            assert needle not in logs, f"{table}.{column} in the logs"
            assert b"CANARY-" not in raw
    assert ids["code"].replace(" ", "").encode() not in raw  # receipt codes only as keyed hashes


async def test_flipped_byte_fails_clearly(store):
    ids = await _store_everything(store)
    async with transaction(store.sessions) as session:
        case = await session.get(Case, ids["case_id"])
        blob = bytearray(case.narrative)
        blob[20] ^= 0x01
        await session.exec(update(Case).where(Case.id == case.id).values(narrative=bytes(blob)))
    async with transaction(store.sessions) as session:
        case = await session.get(Case, ids["case_id"])
        aead = await data_key_of(session, store.vault, case)
        with pytest.raises(IntegrityError, match="failed authentication"):
            open_from(store.vault, aead, case, "narrative")
        assert open_from(store.vault, aead, case, "details") == {
            "value": canary("cases", "details")
        }


async def test_ciphertext_moved_to_another_row_or_column_fails(store):
    ids = await _store_everything(store)
    async with transaction(store.sessions) as session:
        other, _ = await cases.create_case(
            session,
            store.vault,
            cases.NewCase(channel="web", reporter="survivor", sealed={"narrative": "other"}),
            now=NOW,
        )
        case = await session.get(Case, ids["case_id"])
        # same column, other row (even given the right data key, the AAD binds the row)
        await session.exec(update(Case).where(Case.id == other.id).values(narrative=case.narrative))
        # other column, same row
        await session.exec(update(Case).where(Case.id == case.id).values(contact=case.narrative))
    async with transaction(store.sessions) as session:
        case = await session.get(Case, ids["case_id"])
        other = await session.get(Case, other.id)
        with pytest.raises(IntegrityError):
            open_from(
                store.vault, await data_key_of(session, store.vault, other), other, "narrative"
            )
        other.data_key_id = case.data_key_id
        with pytest.raises(IntegrityError):
            open_from(
                store.vault, await data_key_of(session, store.vault, case), other, "narrative"
            )
        with pytest.raises(IntegrityError):
            open_from(store.vault, await data_key_of(session, store.vault, case), case, "contact")


async def test_shredded_case_cannot_be_opened_from_an_old_copy(store):
    ids = await _store_everything(store)
    async with transaction(store.sessions) as session:
        case = await session.get(Case, ids["case_id"])
        copy = {column: getattr(case, column) for column in SEALED_COLUMNS["cases"]}
        key_id = case.data_key_id
        await cases.delete_case(session, store.vault, case, now=NOW, actor_role="survivor")
    async with transaction(store.sessions) as session:
        assert await session.get(Case, ids["case_id"]) is None
        assert await session.get(DataKey, key_id) is None
        assert await cases.find_by_receipt(session, store.vault, ids["code"]) is None
        ghost = Case(
            id=ids["case_id"], ref="LT-GHOST", data_key_id=key_id, channel="x", reporter="x", **copy
        )
        with pytest.raises(ShreddedError):
            await data_key_of(session, store.vault, ghost)
    # Not even the master keys themselves open the copied fields.
    for blob in copy.values():
        for master in store.keyring.master_keys.values():
            with pytest.raises(InvalidTag):
                AESGCM(master).decrypt(blob[1:13], blob[13:], None)


async def test_deleting_a_case_leaves_other_cases_readable(store):
    async with transaction(store.sessions) as session:
        keep, _ = await cases.create_case(
            session,
            store.vault,
            cases.NewCase(channel="web", reporter="survivor", sealed={"narrative": "keep"}),
            now=NOW,
        )
        drop, _ = await cases.create_case(
            session,
            store.vault,
            cases.NewCase(channel="web", reporter="survivor", sealed={"narrative": "drop"}),
            now=NOW,
        )
        await cases.delete_case(session, store.vault, drop, now=NOW, actor_role="survivor")
    async with transaction(store.sessions) as session:
        kept = await session.get(Case, keep.id)
        assert (await cases.open_case(session, store.vault, kept))["narrative"] == "keep"
        assert (await session.exec(text("SELECT count(*) FROM cases"))).scalar() == 1


def test_the_head_named_by_the_migration_files_is_alembics_head():
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrate.alembic_config())
    assert migrate.head_revision() == script.get_current_head()


async def test_an_empty_database_has_no_revision_until_migrated(tmp_path):
    from storage.db import make_engine

    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    try:
        assert await migrate.current_revision(engine) is None
        await migrate.upgrade(engine)
        assert await migrate.current_revision(engine) == migrate.head_revision()
    finally:
        await engine.dispose()


def test_opening_a_store_already_at_the_head_does_not_load_alembic(tmp_path):
    # Alembic holds ~8 MB of a worker's memory: it is loaded only to change the schema.
    # Each opening is a fresh interpreter, as a worker is.
    import json
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import asyncio, json, sys\n"
        "from pathlib import Path\n"
        "from storage.keys import KeySource\n"
        "from storage.store import open_store\n"
        "async def main(path):\n"
        "    url = f'sqlite+aiosqlite:///{path}/s.db'\n"
        "    store = await open_store(url, KeySource(Path(path) / 'k'))\n"
        "    await store.close()\n"
        "asyncio.run(main(sys.argv[1]))\n"
        "print(json.dumps('alembic' in sys.modules))\n"
    )
    root = Path(__file__).resolve().parents[2]

    def open_once() -> bool:
        done = subprocess.run(
            [sys.executable, "-c", code, str(tmp_path)], cwd=root, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    assert open_once()  # a new database: migrated
    assert not open_once()  # at the head already
