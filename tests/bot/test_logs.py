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
