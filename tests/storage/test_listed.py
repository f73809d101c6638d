"""storage.listed: a list bound as one parameter finds what an IN would, on both databases,
in one statement text whatever the list's length."""

from __future__ import annotations

import pytest
from sqlalchemy import BigInteger, Column, MetaData, String, Table, event, insert, select

from storage.db import transaction
from storage.listed import bound, one_of, per_dialect

_METADATA = MetaData()
_THINGS = Table(
    "listed_things", _METADATA, Column("id", BigInteger, primary_key=True), Column("name", String)
)
_BY_ID = per_dialect(
    lambda dialect: select(_THINGS.c.name).where(one_of(_THINGS.c.id, "ids", dialect))
)
_BY_NAME = per_dialect(
    lambda dialect: select(_THINGS.c.id).where(one_of(_THINGS.c.name, "names", dialect))
)
ROWS = [{"id": n, "name": f"thing-{n}"} for n in range(1, 11)] + [{"id": 99, "name": "Đắk 'x\""}]


@pytest.fixture
async def things(store):
    async with store.engine.begin() as connection:
        await connection.run_sync(_METADATA.create_all)
        await connection.execute(insert(_THINGS), ROWS)
    yield store
    async with store.engine.begin() as connection:
        await connection.run_sync(_METADATA.drop_all)


@pytest.mark.parametrize(
    "ids", [[], [3], [1, 2, 3], [10, 4, 10, 7], list(range(1, 12)), [99, 123456789012345]]
)
async def test_one_of_finds_the_rows_an_in_would(things, ids):
    dialect = things.engine.dialect.name
    async with transaction(things.sessions) as session:
        names = (await session.exec(_BY_ID[dialect], params={"ids": bound(dialect, ids)})).all()
        wanted = [row["name"] for row in ROWS if row["id"] in ids]
        assert sorted(name for (name,) in names) == sorted(wanted)
        by_name = {"names": bound(dialect, wanted + ["nobody"])}
        found = (await session.exec(_BY_NAME[dialect], params=by_name)).all()
        assert sorted(row_id for (row_id,) in found) == sorted(set(ids) & {r["id"] for r in ROWS})


async def test_one_statement_text_whatever_the_length(things):
    dialect = things.engine.dialect.name
    seen: list[str] = []

    @event.listens_for(things.engine.sync_engine, "before_cursor_execute")
    def _seen(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    async with transaction(things.sessions) as session:
        for ids in ([1], [1, 2], list(range(1, 9))):
            await session.exec(_BY_ID[dialect], params={"ids": bound(dialect, ids)})
    selects = [sql for sql in seen if sql.startswith("SELECT")]
    assert len(selects) == 3 and len(set(selects)) == 1
