"""bot/logs.py: steady state prints no line per update or per job run."""

from __future__ import annotations

import logging

import pytest

from bot.logs import configure_logging


@pytest.fixture
def restored_levels():
    names = ("aiogram.event", "apscheduler", "sqlalchemy.engine", "uvicorn.access")
    before = {n: logging.getLogger(n).level for n in names}
    yield
    for name, level in before.items():
        logging.getLogger(name).setLevel(level)


def test_no_line_per_update_or_job_run_but_failures_are_logged(restored_levels):
    configure_logging(logging.INFO)
    for name in ("aiogram.event", "apscheduler"):
        logger = logging.getLogger(name)
        assert not logger.isEnabledFor(logging.INFO)
        assert logger.isEnabledFor(logging.ERROR)


def test_loggers_that_would_print_parameters_or_addresses_are_held(restored_levels):
    configure_logging(logging.DEBUG)
    for name in ("sqlalchemy.engine", "uvicorn.access"):
        assert not logging.getLogger(name).isEnabledFor(logging.INFO)


async def test_steady_state_logs_one_line_of_counts_a_minute_not_one_per_update(
    tmp_path, fake_bot_api, caplog, restored_levels
):
    from bot.runtime import Runtime
    from tests.e2e.test_telegram import settings_for
    from tests.fakes import updates

    configure_logging(logging.INFO)  # as the hotline's process does
    runtime = await Runtime.start(settings_for(tmp_path, fake_bot_api))
    users = [613_000_000_000 + n for n in range(5)]
    try:
        with caplog.at_level(logging.INFO):
            caplog.clear()
            for user in users:
                fake_bot_api.inject_update(updates.command_update(user, "/start"))
            for user in users:
                await fake_bot_api.async_wait_for_sent(chat_id=user, timeout=10)
            assert [r for r in caplog.records if r.levelno >= logging.INFO] == []
            await runtime.log_summary()
            await runtime.log_summary()  # a quiet minute: no line
    finally:
        await runtime.stop()
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.runtime"]
    assert lines == ["last minute: telegram 5"]
