"""`hotline run` with HOTLINE_ZALO_TOKEN as a real process against the fake Zalo server:
long polling, and webhook mode with --zalo-webhook."""

from __future__ import annotations

import asyncio

import httpx

from bot.zalo import webhook
from tests.e2e.test_telegram_process import HotlineProcess, _start, processes  # noqa: F401
from tests.e2e.zalo_driver import ZaloPerson
from tests.fakes.zalo_api import FakeZaloAPI

SECRET = "zalo-process-secret"


async def test_hotline_run_long_polls_zalo(tmp_path, processes):  # noqa: F811
    with FakeZaloAPI() as fake:
        await _start(processes, tmp_path, fake.env())
        person = ZaloPerson(fake, "proc-user-1")
        person.say("/start")
        await person.choose("safe")
        await person.offered("me")


async def test_hotline_run_on_the_zalo_webhook(tmp_path, processes):  # noqa: F811
    with FakeZaloAPI() as fake:
        port = HotlineProcess(tmp_path, {}).port
        url = f"http://127.0.0.1:{port}{webhook.PATH}"
        env = {**fake.env(), "HOTLINE_WEBHOOK_SECRET": SECRET}
        process = HotlineProcess(tmp_path, env, "--zalo-webhook", url)
        process.port = port
        processes.append(process)
        await asyncio.to_thread(process.start)
        assert fake.webhook_info()["url"] == url
        person = ZaloPerson(fake, "proc-user-2")
        person.say("/start")
        await person.offered("safe")
        async with httpx.AsyncClient() as client:
            answer = await client.post(url, json={}, headers={webhook.SECRET_HEADER: "wrong-one"})
        assert answer.status_code == 401
