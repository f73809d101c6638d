"""Logging that never carries content (DESIGN §6: logs and crash reports leak content).

Our own log lines name events and ids only. Libraries that would log statement parameters
or client addresses are held at WARNING, and uvicorn's access log (which records the
caller's IP address) is off. APScheduler and aiogram's dispatcher are held at WARNING too:
at INFO they print a line per job run (every second) and per update (a failing job or
update is still logged, at ERROR).
"""

from __future__ import annotations

import logging

# Loggers that print SQL parameters, request lines or addresses at INFO/DEBUG.
_QUIET = ("aiosqlite", "sqlalchemy.engine", "asyncpg", "uvicorn.access", "httpx", "httpcore")
# Loggers that repeat themselves in steady state.
_STEADY = ("apscheduler", "aiogram.event")


def configure_logging(level: int = logging.INFO) -> None:
    """Plain timestamped lines on stderr; chatty libraries held at WARNING."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in _QUIET + _STEADY:
        logging.getLogger(name).setLevel(logging.WARNING)
