from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from tests.conftest_fakes import *  # noqa: F403


@pytest.fixture(autouse=True)
def _no_leaked_fake_servers() -> Iterator[None]:
    yield
    leaked = [t.name for t in threading.enumerate() if t.name.startswith("FakeBotAPI:")]
    assert not leaked, f"fake Bot API threads still running: {leaked}"
