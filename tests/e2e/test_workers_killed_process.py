"""Two `hotline run` webhook workers on one PostgreSQL database; one is SIGKILLed during a
burst (issue 22). Telegram (here: this test, as a load balancer in front of the workers
would) posts each update again, to the worker still up, until it is answered 200.

Counted afterwards: every person got the answer to /start (nothing
lost); every update was applied once, however often it was delivered (one outbox row
per person, all sent); and sends repeated are bounded by what the killed worker held
leased (the Bot API has no idempotency key: a call the dead worker made but could not
record is made again once its lease runs out, see storage.outbox).
"""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import select

from bot.sender import CLAIM_BATCH
from storage.db import make_engine, make_sessionmaker, transaction
from storage.models import OutboxMessage
from tests.conftest import _drop_pg_database, _pg_database, require_postgres
from tests.e2e.test_telegram_process import _start, processes  # noqa: F401
from tests.fakes import updates
from tests.fakes.bot_api import FakeBotAPI

SECRET = "two-workers-secret-0123456789"
PEOPLE = 240
KILL_AFTER = 80  # updates posted before the first worker is killed
FIRST_USER = 739_000_000_001
REPLIES = 1  # messages the hotline answers /start with (counted in the outbox, below)


@pytest.fixture
def pg_url():
    require_postgres()
    name = "t_kill_" + str(FIRST_USER)[-6:]
    _drop_pg_database(name)
    db = _pg_database(name)
    try:
        yield db.url
    finally:
        _drop_pg_database(name)


@pytest.fixture
def fake():
    with FakeBotAPI(global_limit=10**9, per_chat_limit=10**9) as started:
        yield started


async def test_a_worker_killed_mid_burst_loses_nothing(tmp_path, processes, pg_url, fake):  # noqa: F811
    env = {
        "HOTLINE_DATABASE_URL": pg_url,
        "HOTLINE_TELEGRAM_TOKEN": fake.token,
        "HOTLINE_TELEGRAM_API_BASE": fake.base_url,
        "HOTLINE_WEBHOOK_SECRET": SECRET,
        "HOTLINE_SEND_RATE_GLOBAL": "1000000",
        "HOTLINE_SEND_RATE_CHAT": "1000000",
        "HOTLINE_SEND_BURST_CHAT": "1000000",
    }
    hook = "http://127.0.0.1:{}/telegram/webhook"
    first = await _start(
        processes, tmp_path, env, "--webhook", "http://127.0.0.1:1/telegram/webhook"
    )
    second = await _start(
        processes, tmp_path, env, "--webhook", "http://127.0.0.1:1/telegram/webhook"
    )
    workers = [first, second]
    alive = [True, True]
    items = [
        updates.command_update(FIRST_USER + n, "/start", update_id=n + 1, message_id=1)
        for n in range(PEOPLE)
    ]
    deliveries = Counter()
    posted = 0

    async def deliver(client: httpx.AsyncClient, number: int, item: dict) -> None:
        """Post until a worker answers 200, moving to the worker still up (as a load
        balancer does when one stops answering)."""
        nonlocal posted
        choice = number % 2
        while True:
            if not alive[choice]:
                choice = 1 - choice
            deliveries[item["update_id"]] += 1
            try:
                answer = await client.post(
                    hook.format(workers[choice].port),
                    json=item,
                    headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
                )
                if answer.status_code == 200:
                    break
            except httpx.TransportError:
                pass  # the killed worker: delivered again, to the other
            choice = 1 - choice
        posted += 1
        if posted == KILL_AFTER:
            alive[0] = False
            workers[0].kill()

    async with httpx.AsyncClient(timeout=30) as client:
        lanes = asyncio.Queue()
        for number, item in enumerate(items):
            lanes.put_nowait((number, item))

        async def lane() -> None:
            while not lanes.empty():
                await deliver(client, *lanes.get_nowait())

        await asyncio.gather(*(lane() for _ in range(8)))
    assert not alive[0] and workers[0].process.poll() is not None  # it was killed mid-burst

    people = {item["message"]["chat"]["id"] for item in items}

    def everyone_answered() -> bool:
        sent = Counter(
            c.chat_id for c in fake.calls("sendMessage") if c.status == 200 and c.chat_id in people
        )
        return all(sent[person] >= REPLIES for person in people)

    # The killed worker's leases run out (HOTLINE_SEND_LEASE_S=2), then the other sends.
    await fake.async_wait_for(everyone_answered, timeout=90)

    # The survivor also sends again what the killed worker held but never recorded; the
    # outbox is counted once every row has settled.
    rows = await _settled_outbox(pg_url, timeout=60)
    # Each update applied once, however often delivered: one row per person, all sent.
    assert rows == {"sent": REPLIES * PEOPLE}
    assert sum(deliveries.values()) >= PEOPLE
    sent = Counter(
        c.chat_id for c in fake.calls("sendMessage") if c.status == 200 and c.chat_id in people
    )
    assert set(sent) == people and min(sent.values()) == REPLIES
    repeated = sum(sent.values()) - REPLIES * PEOPLE
    # Only what the killed worker had claimed (one batch at most) can have gone out twice.
    assert repeated <= CLAIM_BATCH


async def _settled_outbox(url: str, *, timeout: float) -> dict[str, int]:
    """The outbox's rows by state, once none is still pending or being sent (polled: the
    database tells nobody when the other process records a send)."""
    engine = make_engine(url)
    deadline = asyncio.get_running_loop().time() + timeout
    try:
        sessions = make_sessionmaker(engine)
        while True:
            async with transaction(sessions) as session:
                query = select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)
                rows = dict((await session.exec(query)).all())
            if (
                not {"pending", "sending"} & set(rows)
                or asyncio.get_running_loop().time() > deadline
            ):
                return rows
            await asyncio.sleep(0.2)
    finally:
        await engine.dispose()
