"""bot.telegram.webhook_groups, through the webhook route of the real app: updates that
arrive together are stored as one commit group, in update order; each request is answered
200 once its update is committed, 500 when storing failed (Telegram delivers it again);
a request that goes away does not take its group with it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from sqlalchemy.exc import OperationalError

from bot import update_groups
from bot.app import create_app
from bot.service import Hotline
from bot.telegram import webhook, webhook_groups
from storage import conversations
from tests.e2e.test_telegram import settings_for
from tests.fakes import updates as U

SECRET = "webhook-groups-secret-0123456789"
USERS = [612_000_000_000 + n for n in range(1, 9)]


class Groups(list):
    """The groups stored (update ids, in the order handled); a group waits for ``gate``."""

    def __init__(self) -> None:
        super().__init__()
        self.gate, self.entered = asyncio.Event(), asyncio.Event()
        self.gate.set()
        self.deferring: list[bool] = []  # whether each group deferred its writes


@asynccontextmanager
async def _hotline(tmp_path, fake) -> AsyncIterator[tuple[httpx.AsyncClient, Groups]]:
    """The app in webhook mode, a client posting to its route, and the groups it stored."""
    app = create_app(
        settings_for(tmp_path, fake, webhook_secret=SECRET),
        webhook_url="http://127.0.0.1:9/telegram/webhook",  # the fake never calls it: we post
    )
    groups = Groups()
    real = webhook_groups.handle_batch

    async def recorded(dispatcher, bot, sessions, updates, **options):
        groups.append([update.update_id for update in updates])
        groups.deferring.append(options.get("defer_writes", False))
        groups.entered.set()
        await groups.gate.wait()
        await real(dispatcher, bot, sessions, updates, **options)

    webhook_groups.handle_batch = recorded
    try:
        async with app.router.lifespan_context(app):
            groups.runtime = app.state.runtime
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://hotline") as client:
                yield client, groups
    finally:
        webhook_groups.handle_batch = real


async def _post(client: httpx.AsyncClient, update: dict) -> int:
    headers = {webhook.SECRET_HEADER: SECRET}
    return (await client.post(webhook.PATH, json=update, headers=headers)).status_code


def _starts(first_id: int = 1) -> list[dict]:
    return [
        U.command_update(user, "/start", update_id=first_id + n) for n, user in enumerate(USERS)
    ]


async def test_updates_that_arrive_together_are_stored_as_one_group(tmp_path, fake_bot_api):
    async with _hotline(tmp_path, fake_bot_api) as (client, groups):
        statuses = await asyncio.gather(*(_post(client, u) for u in _starts()))
        for user in USERS:
            await fake_bot_api.async_wait_for_sent(chat_id=user, timeout=10)
    assert statuses == [200] * len(USERS)
    assert groups == [list(range(1, len(USERS) + 1))]
    for user in USERS:
        assert len(fake_bot_api.calls("sendMessage", chat_id=user)) == 1


async def test_a_group_is_handled_in_update_order(tmp_path, fake_bot_api):
    async with _hotline(tmp_path, fake_bot_api) as (client, groups):
        statuses = await asyncio.gather(*(_post(client, u) for u in reversed(_starts())))
    assert statuses == [200] * len(USERS)
    assert groups == [list(range(1, len(USERS) + 1))]


async def test_a_quiet_hotline_stores_each_update_as_it_comes(tmp_path, fake_bot_api):
    async with _hotline(tmp_path, fake_bot_api) as (client, groups):
        for update in _starts()[:3]:
            assert await _post(client, update) == 200
    assert groups == [[1], [2], [3]]


async def test_a_trickle_waits_a_moment_so_that_what_comes_close_together_shares_a_group(
    tmp_path, fake_bot_api, monkeypatch
):
    """The first update is stored at once; one that comes right after the group before it
    waits (up to LINGER_S from that group's start), and what arrives meanwhile joins it."""
    waits: list[float] = []
    later: list[asyncio.Task[int]] = []
    arrived = asyncio.Event()
    monkeypatch.setattr(update_groups, "LINGER_S", 60.0)  # "right after", however slow the machine
    updates = _starts()[:4]
    async with _hotline(tmp_path, fake_bot_api) as (client, groups):

        async def lingering(seconds: float) -> None:  # updates 3 and 4 come meanwhile
            waits.append(seconds)
            later.extend(asyncio.create_task(_post(client, u)) for u in updates[2:])
            await asyncio.wait_for(arrived.wait(), timeout=10)

        monkeypatch.setattr(update_groups, "linger", lingering)
        assert await _post(client, updates[0]) == 200
        assert waits == []
        store, seen = groups.runtime.webhook_groups.store, []

        async def counted(update):
            seen.append(update.update_id)
            if len(seen) == 3:
                arrived.set()
            return await store(update)

        groups.runtime.webhook_groups.store = counted
        statuses = [await _post(client, updates[1]), *await asyncio.gather(*later)]
    assert statuses == [200] * 3
    assert groups == [[1], [2, 3, 4]]
    assert len(waits) == 1 and 59 < waits[0] <= 60


async def test_a_database_failure_answers_500_for_what_was_not_stored(
    tmp_path, fake_bot_api, monkeypatch
):
    """The group is rolled back from the failure on: those updates are answered 500, and
    delivered again they are stored, each answered once."""
    failing = str(USERS[3])
    failed: list[str] = []
    real_handle = Hotline.handle

    async def fails_once(self, inbound):
        if inbound.user_id == failing and not failed:
            failed.append(inbound.user_id)
            raise OperationalError("INSERT", {}, ConnectionError("database is down"))
        return await real_handle(self, inbound)

    monkeypatch.setattr(Hotline, "handle", fails_once)
    starts = _starts()
    async with _hotline(tmp_path, fake_bot_api) as (client, _groups):
        statuses = await asyncio.gather(*(_post(client, u) for u in starts))
        assert failed and 500 in statuses
        for update, status in zip(starts, statuses, strict=True):
            if status != 200:  # as Telegram delivers it again
                assert await _post(client, update) == 200
        for user in USERS:
            await fake_bot_api.async_wait_for_sent(chat_id=user, timeout=10)
    for user in USERS:
        assert len(fake_bot_api.calls("sendMessage", chat_id=user)) == 1


async def test_a_group_whose_writes_fail_at_its_commit_comes_again_written_as_it_goes(
    tmp_path, fake_bot_api, monkeypatch
):
    """A deferred write that fails fails the whole group, whichever update it was: all are
    answered 500, and delivered again they are stored with each update's writes made as
    it goes (so that an update that fails by itself is told apart)."""
    real_insert = conversations._insert_states
    failures: list[int] = []

    def fails_once(session, items):
        if not failures:
            failures.append(len(items))
            raise OperationalError("INSERT", {}, ConnectionError("database is down"))
        real_insert(session, items)

    monkeypatch.setattr(conversations, "_insert_states", fails_once)
    starts = _starts()
    async with _hotline(tmp_path, fake_bot_api) as (client, groups):
        statuses = await asyncio.gather(*(_post(client, u) for u in starts))
        assert statuses == [500] * len(USERS)
        again = await asyncio.gather(*(_post(client, u) for u in starts))
        for user in USERS:
            await fake_bot_api.async_wait_for_sent(chat_id=user, timeout=10)
    assert failures == [len(USERS)]
    assert again == [200] * len(USERS)
    assert groups.deferring == [True, False]
    for user in USERS:
        assert len(fake_bot_api.calls("sendMessage", chat_id=user)) == 1


async def test_a_request_that_goes_away_does_not_take_its_group_with_it(tmp_path, fake_bot_api):
    starts = _starts()
    async with _hotline(tmp_path, fake_bot_api) as (client, groups):
        groups.gate.clear()
        posts = [asyncio.create_task(_post(client, u)) for u in starts]
        await groups.entered.wait()  # the first post's group is being stored
        posts[0].cancel()
        groups.gate.set()
        rest = await asyncio.gather(*posts[1:])
        for user in USERS:  # the cancelled one's update too: it was in the group
            await fake_bot_api.async_wait_for_sent(chat_id=user, timeout=10)
    assert rest == [200] * (len(USERS) - 1)


async def test_the_hotline_tells_telegram_how_many_connections_its_groups_are_sized_for(
    tmp_path, fake_bot_api
):
    async with _hotline(tmp_path, fake_bot_api):
        (call,) = fake_bot_api.calls("setWebhook")
    assert call.params["max_connections"] == webhook.CONNECTIONS
