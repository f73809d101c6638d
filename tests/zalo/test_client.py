"""The httpx client and the outbox transport against the fake Zalo server: answers sorted
into retry or refuse, long polling, webhook set-up; the channel's per-chat de-duplication."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from bot.channel import Refused, RetryLater
from bot.zalo.client import ZaloAPIError, ZaloClient, ZaloNetworkError
from bot.zalo.handlers import ZaloChannel
from bot.zalo.models import ZaloUpdate
from bot.zalo.transport import ZaloTransport
from tests.fakes.zalo_api import FakeZaloAPI


@pytest.fixture
def fake() -> Iterator[FakeZaloAPI]:
    with FakeZaloAPI() as server:
        yield server


@pytest.fixture
async def client(fake) -> AsyncIterator[ZaloClient]:
    async with ZaloClient(fake.token, fake.base_url, timeout=5) as opened:
        yield opened


async def test_get_me_and_a_wrong_token(fake, client):
    assert (await client.get_me()).id == fake.bot_id
    async with ZaloClient("wrong:token", fake.base_url) as wrong:
        with pytest.raises(ZaloAPIError) as caught:
            await wrong.get_me()
    assert caught.value.code == 401 and "token" not in str(caught.value)


async def test_long_polling_answers_at_once_when_an_update_comes(fake, client):
    assert await client.get_updates(timeout=0) == []  # 408: nothing came
    poll = asyncio.create_task(client.get_updates(timeout=20))
    await fake.async_wait_for(lambda: True)
    fake.inject_text("u1", "xin chào")
    (update,) = await asyncio.wait_for(poll, 10)
    assert update.message.text == "xin chào" and update.message.sender.id == "u1"
    assert fake.pending_updates() == 0  # handed over once: Zalo has no offset


async def test_transport_sorts_failures(fake, client):
    transport = ZaloTransport(client)
    fake.inject_text("u1", "hi")  # a bot may only write to someone who wrote first
    params = {"chat_id": "u1", "text": "a", "choices": ["3.safe"]}
    assert (await transport.call("sendMessage", params))["message_id"]
    assert fake.calls("sendMessage")[-1].params == {"chat_id": "u1", "text": "a"}
    cases = [
        (dict(status=429, retry_after=3), RetryLater, 3.0),
        (dict(status=500), RetryLater, None),
        (dict(status=502, body="<html>Bad Gateway</html>"), RetryLater, None),
        (dict(status=403), Refused, None),
    ]
    for failure, expected, after in cases:
        fake.fail_next("sendMessage", **failure)
        with pytest.raises(expected) as caught:
            await transport.call("sendMessage", {"chat_id": "u1", "text": "b"})
        if expected is RetryLater:
            assert caught.value.after == after
    with pytest.raises(Refused):  # too long for Zalo: final
        await transport.call("sendMessage", {"chat_id": "u1", "text": "x" * 2001})
    with pytest.raises(Refused):  # never written to us
        await transport.call("sendMessage", {"chat_id": "stranger", "text": "b"})
    for method in ("deleteMessages", "editMessageText", "editTagged"):
        with pytest.raises(Refused):
            await transport.call(method, {"chat_id": "u1"})
    sent = [call for call in fake.calls("sendMessage") if call.ok]
    assert len(sent) == 1


async def test_a_lost_connection_and_a_bad_token_are_retried_not_dropped(fake):
    def broken(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("down")

    async with ZaloClient("t:1", "http://127.0.0.1:9", transport=httpx.MockTransport(broken)) as c:
        with pytest.raises(ZaloNetworkError):
            await c.send_message("u1", "x")
        with pytest.raises(RetryLater):
            await ZaloTransport(c).call("sendMessage", {"chat_id": "u1", "text": "x"})
    async with ZaloClient("wrong:token", fake.base_url) as wrong:
        with pytest.raises(RetryLater) as caught:
            await ZaloTransport(wrong).call("sendMessage", {"chat_id": "u1", "text": "x"})
    assert caught.value.after == 60.0


async def test_webhook_set_up_and_polling_conflict(fake, client):
    with pytest.raises(ZaloAPIError):  # Zalo wants 8+ characters
        await client.set_webhook("http://127.0.0.1:1/zalo/webhook", "short")
    await client.set_webhook("http://127.0.0.1:1/zalo/webhook", "long-enough-secret")
    assert (await client.get_webhook_info())["url"].endswith("/zalo/webhook")
    with pytest.raises(ZaloAPIError) as caught:
        await client.get_updates(timeout=0)
    assert caught.value.code == 409
    await client.delete_webhook()
    assert await client.get_updates(timeout=0) == []


class _Hotline:
    def __init__(self, fail: int = 0) -> None:
        self.handled: list = []
        self.fail = fail

    async def handle(self, inbound) -> None:
        if self.fail:
            self.fail -= 1
            raise RuntimeError("database hiccup")
        self.handled.append(inbound)


def _update(message_id: str, chat: str = "c1", text: str = "1") -> ZaloUpdate:
    return ZaloUpdate.model_validate(
        {
            "event_name": "message.text.received",
            "message": {
                "message_id": message_id,
                "from": {"id": chat},
                "chat": {"id": chat},
                "text": text,
            },
        }
    )


async def test_channel_hands_on_the_message_id_and_retries_hiccups():
    """The message id is the update's id: the service recognises a delivery again by it
    (bot.deliveries; end to end in tests/e2e/test_focal_redelivery.py)."""
    hotline = _Hotline(fail=2)
    channel = ZaloChannel(hotline, client=None, retry_base_s=0.001)
    assert await channel.handle_with_retry(_update("m1"))
    assert await channel.handle(_update("m2"))
    assert await channel.handle(_update("m1", chat="c2"))  # another chat's id
    assert [(i.chat_id, i.update_id) for i in hotline.handled] == [
        ("c1", "m1"),
        ("c1", "m2"),
        ("c2", "m1"),
    ]
    with pytest.raises(RuntimeError):
        await ZaloChannel(_Hotline(fail=1), client=None).handle(_update("m3"))


async def test_a_lost_answer_is_a_retry_and_may_double_a_message(fake, client):
    """The Bot API has no idempotency key (DESIGN §8): an answer lost after the server sent
    the message is retried, so that message (only that one) can arrive twice."""
    fake.inject_text("u1", "hi")
    fake.drop_next("sendMessage", applied=True)
    with pytest.raises(RetryLater):
        await ZaloTransport(client).call("sendMessage", {"chat_id": "u1", "text": "once"})
    assert [m.text for m in fake.sent_messages("u1")] == ["once"]
