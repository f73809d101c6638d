"""bot/rate.py: one place where limits count, shared across workers through Redis."""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time

import pytest
from limits.storage import memory as limits_memory

from bot import rate
from bot.attempts import AttemptLimiter
from tests.conftest import REQUIRE_SERVICES

REDIS_URL = os.environ.get("HOTLINE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _require_redis() -> None:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return
    except OSError as error:
        if REQUIRE_SERVICES:
            pytest.fail(f"HOTLINE_REQUIRE_SERVICES=1 but Redis is not reachable: {error}")
        pytest.skip(f"Redis not reachable: {error}")


@pytest.fixture
def restore_store():
    before = rate.store()
    yield
    rate._store = before


def _name() -> str:  # windows of one test never meet another run's in a shared Redis
    return f"test.{secrets.token_hex(6)}"


def test_a_window_counts_per_key_and_names_keep_windows_apart(restore_store):
    rate.configure(None)
    window = rate.Window(2, 60, name=_name())
    assert window.allow("a") and window.allow("a") and not window.allow("a")
    assert window.allow("b")
    other = rate.Window(2, 60, name=_name())
    assert other.allow("a")


def test_two_workers_sharing_redis_share_every_limit(restore_store):
    _require_redis()
    first, second = rate.RateStore(REDIS_URL), rate.RateStore(REDIS_URL)
    name = _name()
    window = rate.Window(3, 60, name=name)
    allowed = []
    for store in (first, second, first, second):  # requests alternate between workers
        rate._store = store
        allowed.append(window.allow("address"))
    assert allowed == [True, True, True, False]
    assert first.address_key == second.address_key  # an address hashes alike in both

    limiter = AttemptLimiter(per_sender=2, name=name)
    rate._store = first
    limiter.missed("chat")
    limiter.missed("chat")
    rate._store = second
    assert limiter.wait("chat") > 0  # the other worker's wrong codes count here too


def test_a_redis_outage_loosens_limits_but_refuses_nobody(restore_store, caplog):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    down = rate.configure(f"redis://127.0.0.1:{port}/0")
    window = rate.Window(2, 60, name=_name())
    assert [window.allow("a") for _ in range(3)] == [True, True, False]  # counted in memory
    assert "counting in memory" in caplog.text
    assert len(down.address_key) == 32


def test_counting_in_memory_starts_no_thread_and_sweeps_run_out_windows(restore_store, monkeypatch):
    store = rate.configure(None)
    window = rate.Window(5, 60, name=_name())
    store.memory.storage.timer.join()  # the one the library starts with its storage
    started = []
    monkeypatch.setattr(threading.Thread, "start", lambda self: started.append(self))
    for key in ("a", "b", "c"):
        assert window.allow(key)
    assert [window.allow("a") for _ in range(5)] == [True] * 4 + [False]
    assert started == []  # the library's own expiry timer would start one per 10 ms
    storage = store.memory.storage
    assert {key.split("/")[2]: len(hits) for key, hits in storage.events.items()} == {
        "a": 5,
        "b": 1,
        "c": 1,
    }
    later = time.time() + 61  # every window has run out: the next hit's sweep drops them
    monkeypatch.setattr(limits_memory.time, "time", lambda: later)
    storage._next_sweep = 0.0  # the next sweep is due
    assert window.allow("d")
    held = {key.split("/")[2]: len(hits) for key, hits in storage.events.items()}
    assert held == {"a": 0, "b": 0, "c": 0, "d": 1}
