"""Two `hotline run` workers sharing Redis (HOTLINE_REDIS_URL) share their rate limits: a
client alternating between them gets one allowance, not one per worker (issue 23)."""

from __future__ import annotations

import httpx
import redis

from bot.web.security import Limits
from tests.bot.test_rate import _require_redis
from tests.e2e.test_telegram_process import _start, processes  # noqa: F401

REDIS_DB_URL = "redis://127.0.0.1:6379/15"  # this test's own database, emptied first


async def test_two_workers_give_one_address_one_allowance(tmp_path, processes):  # noqa: F811
    _require_redis()
    redis.Redis.from_url(REDIS_DB_URL).flushdb()
    env = {"HOTLINE_REDIS_URL": REDIS_DB_URL}
    first = await _start(processes, tmp_path, env)
    second = await _start(processes, tmp_path, env)
    allowance = Limits().address_sessions  # new chat sessions per address per minute
    async with httpx.AsyncClient(timeout=30) as client:
        codes = []
        for i in range(allowance + 10):
            worker = first if i % 2 == 0 else second
            answer = await client.post(
                f"http://127.0.0.1:{worker.port}/api/chat/start", json={"lang": "vi"}
            )
            codes.append(answer.status_code)
    assert codes.count(200) == allowance and codes.count(429) == 10
