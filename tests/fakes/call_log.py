"""Reading a fake server's call log by position, so a long run scans only what is new."""

from __future__ import annotations

import threading
from typing import Any


class CallLog:
    """For fakes that append each call to ``self._calls`` under ``self._lock``."""

    _calls: list[Any]
    _lock: threading.Lock | threading.RLock

    def call_count(self) -> int:
        with self._lock:
            return len(self._calls)

    def calls_from(self, index: int) -> list[Any]:
        """Recorded calls from position ``index`` on."""
        with self._lock:
            return self._calls[index:]
