"""Key rotation under a running server cannot lock the hotline out (issue 23, finding 2):
rotate twice and retire both old keys while reports come in, restart, read every case."""

from __future__ import annotations

import asyncio
import threading
import time

from sqlmodel import select

from storage import cases, keys
from storage.db import transaction
from storage.errors import KeyFileError
from storage.models import Case
from storage.store import open_store
from tests.web.driver import WebPerson, survivor_report
from tests.web.server import LiveServer


def _file_report(url: str, account: str) -> None:
    person = WebPerson(url)
    try:
        person.start()
        survivor_report(person, account=account)
        person.tap("send")
        assert person.receipt_code() is not None
    finally:
        person.close()


def _retire_when_workers_follow(settings, version: int, within_s: float = 30) -> None:
    """`hotline keys retire VERSION`, tried again while a worker has not followed yet."""

    async def retire() -> None:
        store = await open_store(settings.database_url, settings.key_source(), create_key=False)
        try:
            await keys.retire(store.sessions, store.source, version)
        finally:
            await store.close()

    deadline = time.monotonic() + within_s
    while True:
        try:
            asyncio.run(retire())
            return
        except KeyFileError as refused:
            if "still wrap new data keys" not in str(refused) or time.monotonic() > deadline:
                raise


def _rotate(settings) -> None:
    async def rotate() -> None:
        store = await open_store(settings.database_url, settings.key_source(), create_key=False)
        try:
            await keys.rotate(store.sessions, store.source)
        finally:
            await store.close()

    asyncio.run(rotate())


def test_rotate_and_retire_under_a_running_server_then_restart_and_read_every_case(tmp_path):
    accounts: list[str] = []
    failures: list[BaseException] = []
    stop = threading.Event()

    with LiveServer(tmp_path, key_file_refresh_s=0.2) as live:

        def keep_reporting() -> None:
            while not stop.is_set():
                accounts.append(f"in flight {len(accounts)}")
                try:
                    _file_report(live.url, accounts[-1])
                except BaseException as exc:  # noqa: BLE001 - reported by the test below
                    failures.append(exc)
                    return

        _file_report(live.url, "before rotation")
        accounts.insert(0, "before rotation")
        reporter = threading.Thread(target=keep_reporting)
        reporter.start()
        try:
            _rotate(live.settings)
            _rotate(live.settings)
            _retire_when_workers_follow(live.settings, 1)
            _retire_when_workers_follow(live.settings, 2)
        finally:
            stop.set()
            reporter.join(60)
        assert not failures, failures
        accounts.append("after retirement")
        _file_report(live.url, "after retirement")  # wrapped under the one key left
    assert sorted(live.settings.key_source().load().master_keys) == [3]

    with LiveServer(tmp_path, key_file_refresh_s=0.2) as restarted:  # must start

        async def read_all() -> list[str]:
            async with transaction(restarted.runtime.store.sessions) as session:
                rows = (await session.exec(select(Case))).all()
                opened = [
                    await cases.open_case(session, restarted.runtime.store.vault, c) for c in rows
                ]
            return [str(fields.get("narrative")) for fields in opened]

        narratives = restarted.run(read_all())
    assert len(narratives) == len(accounts) >= 3
    for account in accounts:
        assert sum(account in narrative for narrative in narratives) == 1, account
