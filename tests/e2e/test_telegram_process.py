"""`hotline run` as a real process against the fake Bot API: webhook mode, and SIGKILL mid-report."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from bot.settings import Settings
from storage import cases
from storage.db import transaction
from storage.models import Case
from storage.store import open_store
from tests.dialogs.helpers import DANGER_SKIPPED
from tests.e2e.driver import TelegramPerson
from tests.e2e.test_telegram import survivor_report

USER = 738_000_900_001


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class HotlineProcess:
    """`python -m bot.cli run` with the given environment, ready once uvicorn says so."""

    def __init__(self, tmp_path: Path, env: dict[str, str], *args: str) -> None:
        self.port = _free_port()
        base = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
        self.env = {
            **base,
            "HOTLINE_DATABASE_URL": f"sqlite:///{tmp_path / 'hotline.db'}",
            "HOTLINE_KEY_FILE": str(tmp_path / "hotline.key"),
            "HOTLINE_SEND_RATE_CHAT": "50",
            "HOTLINE_SEND_BURST_CHAT": "50",
            "HOTLINE_SEND_LEASE_S": "2",
            **env,
        }
        self.args = args
        self.process: subprocess.Popen | None = None

    def start(self) -> HotlineProcess:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run", "--port", str(self.port), *self.args],
            env=self.env,
            stderr=subprocess.PIPE,
            text=True,
        )
        lines = []
        for line in self.process.stderr:
            lines.append(line)
            if "Uvicorn running on" in line:  # bound: startup completes before the bind
                return self
        raise AssertionError("hotline run exited:\n" + "".join(lines))

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


@pytest.fixture
def processes():
    started: list[HotlineProcess] = []
    yield started
    for process in started:
        process.stop()


async def _start(processes, tmp_path, env, *args) -> HotlineProcess:
    process = HotlineProcess(tmp_path, env, *args)
    processes.append(process)
    return await asyncio.to_thread(process.start)


async def test_webhook_mode_checks_the_secret(tmp_path, fake_bot_api, processes):
    secret = "s3cret-token-for-tests"
    port_holder = HotlineProcess(tmp_path, {})
    url = f"http://127.0.0.1:{port_holder.port}/telegram/webhook"
    env = {**fake_bot_api.env(), "HOTLINE_WEBHOOK_SECRET": secret}
    process = HotlineProcess(tmp_path, env, "--webhook", url)
    process.port = port_holder.port
    processes.append(process)
    await asyncio.to_thread(process.start)

    info = fake_bot_api.webhook_info()
    assert info["url"] == url
    async with httpx.AsyncClient() as client:
        update = {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": 1, "type": "private"},
                "from": {"id": 1, "is_bot": False, "first_name": "x"},
                "text": "/start",
            },
        }
        missing = await client.post(url, json=update)
        wrong = await client.post(
            url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "nope"}
        )
    assert missing.status_code == 401 and wrong.status_code == 401
    assert fake_bot_api.calls("sendMessage") == []  # nothing was handled

    person = TelegramPerson(fake_bot_api, USER)
    person.command("/start")  # delivered by the fake to the webhook, with the secret
    await person.tap("safe")
    deliveries = fake_bot_api.webhook_deliveries()
    assert deliveries and all(d.status == 200 for d in deliveries if d.status is not None)


async def test_killed_mid_report_the_conversation_goes_on(tmp_path, fake_bot_api, processes):
    first = await _start(processes, tmp_path, fake_bot_api.env())
    person = TelegramPerson(fake_bot_api, USER + 1)
    person.command("/start")
    await person.tap("safe")
    await person.tap("me")
    await person.tap("phys")
    await person.tap("done", same_screen=True)
    await person.tap("partner")
    first.kill()  # SIGKILL: no shutdown, no flush

    await _start(processes, tmp_path, fake_bot_api.env())
    await person.tap("72h")  # the next question after "who" is still the one asked
    for code in DANGER_SKIPPED:
        await person.tap(code)
    person.say("buon ma thuot")
    await person.tap("c0")
    for code in ("a26", "f", "n", "ede", "n"):
        await person.tap(code)
    await person.tap("med")
    await person.tap("done", same_screen=True)
    await person.tap("y")
    await person.tap("health")
    await person.tap("done", same_screen=True)
    await person.tap("y")
    await person.tap("none")
    person.say("CANARY after the restart")
    await person.tap("done")
    await person.tap("done")
    await person.tap("send")
    await person.receipt_code()
    processes[-1].stop()

    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'hotline.db'}", key_file=tmp_path / "hotline.key"
    )
    store = await open_store(settings.database_url, settings.key_source())
    try:
        async with transaction(store.sessions) as session:
            (case,) = (await session.exec(Case.__table__.select())).all()
            case = await session.get(Case, case.id)
            sealed = await cases.open_case(session, store.vault, case)
    finally:
        await store.close()
    assert case.category == "physical_assault"  # answered before the kill
    assert sealed["details"]["perpetrator"] == "partner_or_ex"
    assert sealed["narrative"] == ["CANARY after the restart"]


async def test_survivor_report_through_a_process(tmp_path, fake_bot_api, processes):
    """The whole report through `hotline run` exactly as deployed (polling)."""
    await _start(processes, tmp_path, fake_bot_api.env())
    person = TelegramPerson(fake_bot_api, USER + 2)
    person.command("/start")
    await survivor_report(person)
    await person.tap("send")
    code, _ = await person.receipt_code()
    assert len(code.replace(" ", "")) == 16
