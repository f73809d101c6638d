"""/healthz, /readyz and /metrics on a running hotline (real runtime, fake Bot API)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import text

from bot.app import create_app
from bot.runtime import Runtime
from tests.bot.test_run import _free_port
from tests.e2e.driver import TelegramPerson
from tests.e2e.test_telegram import settings_for

USER = 738_000_415_927


@pytest.fixture
async def served(
    tmp_path, fake_bot_api, request
) -> AsyncIterator[tuple[Runtime, httpx.AsyncClient]]:
    """A started runtime (Telegram long polling the fake) behind the app's routes."""
    settings = settings_for(tmp_path, fake_bot_api, **getattr(request, "param", {}))
    runtime = await Runtime.start(settings)
    app = create_app(settings)
    app.state.runtime = runtime  # what the lifespan does
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://hotline") as client:
            yield runtime, client
    finally:
        await runtime.stop()


async def test_alive_and_ready_when_everything_runs(served):
    _runtime, client = served
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {"status": "ready"}


async def test_not_ready_when_a_sender_stopped(served):
    runtime, client = served
    [task] = [t for t in runtime.tasks if t.get_name() == "sender:telegram"]
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json() == {"status": "not ready", "reason": "stopped: sender:telegram"}
    assert (await client.get("/healthz")).status_code == 200  # alive all the same


async def test_not_ready_when_the_schema_is_behind(served):
    runtime, client = served
    async with runtime.store.engine.begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = '0002'"))
    ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["reason"].startswith("schema at 0002")


async def test_not_ready_when_the_database_is_gone(served, tmp_path):
    runtime, client = served
    await runtime.escalations.shutdown()  # its ticks would only log errors meanwhile
    await runtime.store.engine.dispose()
    path = tmp_path / "hotline.db"
    for suffix in ("-wal", "-shm"):
        (tmp_path / f"hotline.db{suffix}").unlink(missing_ok=True)
    path.rename(tmp_path / "moved.db")
    path.mkdir()  # what is there now cannot be opened as a database
    try:
        ready = await client.get("/readyz")
    finally:
        path.rmdir()
        shutil.move(tmp_path / "moved.db", path)
    assert ready.status_code == 503
    assert ready.json()["reason"].startswith("database unreachable")


async def test_metrics_are_off_unless_asked_for(served):
    _runtime, client = served
    assert (await client.get("/metrics")).status_code == 404


@pytest.mark.parametrize("served", [{"metrics": True}], indirect=True)
async def test_metrics_count_updates_failures_and_queues_in_totals_only(served, fake_bot_api):
    runtime, client = served
    fake_bot_api.fail_next("sendMessage", 429, retry_after=1)
    TelegramPerson(fake_bot_api, USER).command("/start")
    await fake_bot_api.async_wait_for_sent(USER)  # sent on the second try
    scraped = await client.get("/metrics")
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    body = scraped.text
    assert 'hotline_updates_handled_total{channel="telegram"} 1.0' in body
    assert 'hotline_send_failures_total{channel="telegram",kind="rate_limited"} 1.0' in body
    for gauge in ("outbox_depth", "outbox_oldest_age_seconds", "escalation_lag_seconds"):
        assert f"\nhotline_{gauge} " in body
    assert "\nhotline_drafts 1.0" in body and "\nhotline_cases 0.0" in body
    assert "commune" not in body and "province" not in body


def test_a_running_hotline_logs_nothing_per_tick_at_info(tmp_path):
    """The escalation job runs every second; APScheduler used to print two INFO lines for
    each run. The app runs until the job has run three times, then its log is read."""
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("HOTLINE_")}
    env["HOTLINE_METRICS"] = "1"
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = []
        for line in process.stderr:
            lines.append(line)
            if "Uvicorn running on" in line:  # bound: startup completes before the bind
                break
        else:
            raise AssertionError("hotline run exited early:\n" + "".join(lines))
        deadline = time.monotonic() + 30
        while _ticks(port) < 3:  # polls a counter the app exposes, not a sleep
            assert time.monotonic() < deadline, "the escalation job did not run"
    finally:
        process.terminate()
        _, rest = process.communicate(timeout=30)
    log = "".join(lines) + rest
    assert "Running job" not in log and "executed successfully" not in log
    assert "INFO" in log  # the log is on at INFO: start-up lines are there


def _ticks(port: int) -> float:
    body = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    for line in body.splitlines():
        if line.startswith("hotline_escalation_ticks_total "):
            return float(line.split()[1])
    return 0.0
