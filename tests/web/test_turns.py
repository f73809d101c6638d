"""bot.web.turns, through the chat's posts to the real app: events that pages post together
are stored in one commit group and each page is answered its own operations; a turn that
fails costs only itself (its page hears of it and may send it again); stopping the worker
first finishes the turns already taken. Also how bot.hot_posts answers the chat's posts
that are not valid."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from sqlalchemy.exc import OperationalError

from bot.service import Hotline
from bot.settings import Settings
from bot.web import Limits
from bot.web.app import create_web_app
from bot.web.chat import EVENT_PATH, START_PATH, StartIn

PAGES = 6


class Groups(list):
    """The sizes of the groups of turns stored; a group waits for ``gate``."""

    def __init__(self) -> None:
        super().__init__()
        self.gate, self.entered = asyncio.Event(), asyncio.Event()
        self.gate.set()

    def hold(self) -> None:
        """Hold the next groups at the gate, forgetting those before."""
        self.clear()
        self.entered.clear()
        self.gate.clear()


@asynccontextmanager
async def _chat(tmp_path) -> AsyncIterator[tuple[httpx.AsyncClient, Groups, object]]:
    """The web app (its lifespan run), a client posting to it and the groups it stored."""
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'hotline.db'}",
        key_file=tmp_path / "hotline.key",
    )
    app = create_web_app(settings, limits=Limits(10_000, 100_000, 10_000, 100_000, 10_000))
    groups = Groups()
    async with app.router.lifespan_context(app):
        runtime = app.state.runtime
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://hotline") as client:
            await client.post(START_PATH, json={})  # the web channel is attached by now
            turns = runtime.web_turns
            store_group = turns.store_group

            async def recorded(group):
                groups.append(len(group))
                groups.entered.set()
                await groups.gate.wait()
                return await store_group(group)

            turns.store_group = recorded
            try:
                yield client, groups, runtime
            finally:
                groups.gate.set()  # a failed test must not hold the stop


async def _start(client: httpx.AsyncClient) -> dict:
    answer = await client.post(START_PATH, json={"lang": "vi"})
    assert answer.status_code == 200
    return answer.json()


async def _say(client: httpx.AsyncClient, page: dict, seq: int, text: str) -> httpx.Response:
    body = {"seq": seq, "after": page["last"], "event": {"kind": "text", "text": text}}
    return await client.post(EVENT_PATH, json=body, headers={"X-Session": page["session"]})


async def _until(condition) -> None:
    """Let the other tasks run until ``condition`` holds (one loop, no clock)."""
    for _ in range(10_000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("never came to pass")


async def test_pages_that_post_together_share_a_group_and_each_hears_its_own(tmp_path):
    async with _chat(tmp_path) as (client, groups, _runtime):
        pages = [await _start(client) for _ in range(PAGES)]
        groups.hold()
        first = asyncio.create_task(_say(client, pages[0], 1, "xin chào"))
        await groups.entered.wait()  # the others come while the first is being stored
        rest = [asyncio.create_task(_say(client, page, 1, "xin chào")) for page in pages[1:]]
        await _until(lambda: len(_runtime.web_turns._waiting) == PAGES - 1)
        groups.gate.set()
        answers = [await first, *await asyncio.gather(*rest)]
    assert groups == [1, PAGES - 1]
    assert [a.status_code for a in answers] == [200] * PAGES
    for page, answer in zip(pages, answers, strict=True):
        body = answer.json()
        assert body["ops"] and body["last"] > page["last"]  # what the bot answered this page


async def test_a_turn_that_fails_costs_only_itself_and_comes_again(tmp_path, monkeypatch):
    """The group is rolled back and each turn stored alone: the failing one's page is
    answered 500 (it keeps the message and sends it again), the others 200. Sent again, it
    is stored and answered once."""
    real_handle = Hotline.handle
    failed: list[str] = []

    async def fails_once(self, inbound):
        if inbound.user_id == failing and len(failed) < 2:  # in the group, then alone
            failed.append(inbound.user_id)
            raise OperationalError("INSERT", {}, ConnectionError("database is down"))
        return await real_handle(self, inbound)

    async with _chat(tmp_path) as (client, groups, runtime):
        pages = [await _start(client) for _ in range(PAGES)]
        failing = pages[2]["session"]
        monkeypatch.setattr(Hotline, "handle", fails_once)
        groups.hold()
        first = asyncio.create_task(_say(client, pages[0], 1, "xin chào"))
        await groups.entered.wait()
        rest = [asyncio.create_task(_say(client, page, 1, "xin chào")) for page in pages[1:]]
        await _until(lambda: len(runtime.web_turns._waiting) == PAGES - 1)
        groups.gate.set()
        answers = [await first, *await asyncio.gather(*rest)]
        again = await _say(client, pages[2], 1, "xin chào")
        heard = {**pages[2], "last": again.json()["last"]}
        twice = await _say(client, heard, 1, "xin chào")
    assert failed == [failing, failing]
    assert [a.status_code for a in answers] == [200, 200, 500, 200, 200, 200]
    assert again.status_code == 200 and again.json()["ops"]
    assert twice.status_code == 200 and twice.json()["ops"] == []  # handled once
    assert "database is down" not in answers[2].text


async def test_stopping_the_worker_first_stores_the_turns_it_took(tmp_path):
    async with _chat(tmp_path) as (client, groups, runtime):
        page = await _start(client)
        groups.hold()
        said = asyncio.create_task(_say(client, page, 1, "xin chào"))
        await groups.entered.wait()
        finishing, finish = asyncio.Event(), runtime.web_turns.finish

        async def finished() -> None:
            finishing.set()
            await finish()

        runtime.web_turns.finish = finished
        stopping = asyncio.create_task(runtime.stop())
        await asyncio.wait_for(finishing.wait(), 10)
        assert not said.done()  # still held by the gate: the stop waits for it
        groups.gate.set()
        answer = await said
        await stopping
    assert answer.status_code == 200 and answer.json()["ops"]


async def test_the_chat_posts_are_refused_as_fastapi_would(tmp_path):
    """Answered ahead of FastAPI (bot.hot_posts), with its statuses and error shape."""
    async with _chat(tmp_path) as (client, _groups, _runtime):
        page = await _start(client)
        session = {"X-Session": page["session"]}
        invalid = await client.post(EVENT_PATH, json={"seq": "x"}, headers=session)
        unknown = await client.post(
            EVENT_PATH, json={"seq": 1, "event": {"kind": "text", "text": "a"}}
        )
        as_form = await client.post(
            EVENT_PATH, content=b'{"seq": 1}', headers={**session, "Content-Type": "text/plain"}
        )
        got = await client.get(EVENT_PATH, headers=session)
        bad_start = await client.post(START_PATH, json={"lang": 5})
    assert invalid.status_code == 422
    assert {"loc", "msg", "type"} <= set(invalid.json()["detail"][0])
    assert invalid.json()["detail"][0]["loc"][0] == "body"
    assert unknown.status_code == 401 and unknown.json() == {"detail": "unknown or expired session"}
    assert as_form.status_code in (415, 422)
    assert got.status_code == 405 and got.headers["allow"] == "POST"
    assert bad_start.status_code == 422


async def test_a_validation_error_while_handling_is_the_servers_not_the_pages(
    tmp_path, monkeypatch
):
    """Only the request's own body is answered 422 (which a page does not send again); a
    validation error raised while handling a turn is a 500, which it does."""

    async def fails(self, inbound):
        StartIn.model_validate({"lang": 5})  # a bug's ValidationError

    async with _chat(tmp_path) as (client, _groups, _runtime):
        page = await _start(client)
        monkeypatch.setattr(Hotline, "handle", fails)
        answer = await _say(client, page, 1, "xin chào")
    assert answer.status_code == 500
