"""The fake Bot API used from sync code, raw HTTP clients, threads and subprocesses."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading
import time
from typing import Any

import httpx
import pytest

from tests.fakes import updates as U
from tests.fakes.bot_api import FakeBotAPI

CHAT = 515151


def api(fake: FakeBotAPI, method: str, _token: str | None = None, **params: Any) -> httpx.Response:
    """POST form-encoded like aiogram/PTB do: nested values as JSON strings."""
    data = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
    return httpx.post(fake.url(method, _token), data=data, timeout=15)


def result(resp: httpx.Response) -> Any:
    body = resp.json()
    assert body["ok"], body
    return body["result"]


def _in_thread(fn: Any) -> threading.Thread:
    t = threading.Thread(target=fn, daemon=True)
    t.start()
    return t


def test_long_poll_returns_as_soon_as_an_update_is_injected(fake_bot_api: FakeBotAPI) -> None:
    def inject_when_polling() -> None:
        fake_bot_api.wait_for(lambda: fake_bot_api.polling_clients() > 0)
        fake_bot_api.inject_update(U.text_update(CHAT, "a"))

    t = _in_thread(inject_when_polling)
    started = time.monotonic()
    updates = result(api(fake_bot_api, "getUpdates", timeout=10))
    assert time.monotonic() - started < 5
    t.join(5)
    assert [u["message"]["text"] for u in updates] == ["a"]
    # an empty poll with timeout=0 returns at once
    assert len(result(api(fake_bot_api, "getUpdates", offset=updates[0]["update_id"] + 1))) == 0


def test_offset_limit_and_negative_offset(fake_bot_api: FakeBotAPI) -> None:
    ids = [fake_bot_api.inject_update(U.text_update(CHAT, str(i))) for i in range(5)]
    assert ids == [1, 2, 3, 4, 5]
    got = result(api(fake_bot_api, "getUpdates", limit=2))
    assert [u["update_id"] for u in got] == [1, 2]
    # not confirmed yet: the same updates come again
    assert [u["update_id"] for u in result(api(fake_bot_api, "getUpdates", limit=2))] == [1, 2]
    got = result(api(fake_bot_api, "getUpdates", offset=3))
    assert [u["update_id"] for u in got] == [3, 4, 5]
    assert fake_bot_api.update_state(1) == "confirmed"
    assert fake_bot_api.update_state(3) == "delivered"
    got = result(api(fake_bot_api, "getUpdates", offset=-1))
    assert [u["update_id"] for u in got] == [5]
    assert fake_bot_api.pending_updates()[0]["update_id"] == 5
    # message ids follow one sequence per chat
    assert [u["message"]["message_id"] for u in got] == [5]


def test_allowed_updates_are_remembered(fake_bot_api: FakeBotAPI) -> None:
    fake_bot_api.inject_update(U.callback_update(CHAT, "x", 1))
    fake_bot_api.inject_update(U.text_update(CHAT, "t"))
    got = result(api(fake_bot_api, "getUpdates", allowed_updates=["message"]))
    assert [next(k for k in u if k != "update_id") for u in got] == ["message"]
    fake_bot_api.inject_update(U.callback_update(CHAT, "y", 1))
    assert result(api(fake_bot_api, "getUpdates", offset=got[-1]["update_id"] + 1)) == []


def test_second_poller_terminates_the_first_with_409(fake_bot_api: FakeBotAPI) -> None:
    first: dict[str, Any] = {}

    def poll() -> None:
        first["resp"] = api(fake_bot_api, "getUpdates", timeout=10)

    t = _in_thread(poll)
    fake_bot_api.wait_for(lambda: fake_bot_api.polling_clients() == 1)
    second = api(fake_bot_api, "getUpdates", timeout=0)
    t.join(5)
    assert second.status_code == 200
    assert first["resp"].status_code == 409
    assert "terminated by other getUpdates request" in first["resp"].json()["description"]


def test_json_bodies_and_query_strings(fake_bot_api: FakeBotAPI) -> None:
    r = httpx.post(
        fake_bot_api.url("sendMessage"),
        json={
            "chat_id": str(CHAT),
            "text": "json body",
            "reply_markup": {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]},
        },
    )
    msg = result(r)
    assert msg["chat"]["id"] == CHAT and msg["reply_markup"]["inline_keyboard"][0][0]["text"] == "A"
    call = fake_bot_api.last_call("SENDMESSAGE")  # method names are case-insensitive
    assert call is not None and call.transport == "json" and call.chat_id == CHAT
    r = httpx.get(fake_bot_api.url("sendMessage"), params={"chat_id": CHAT, "text": "true"})
    assert result(r)["text"] == "true"  # a free-text field is never JSON-decoded
    assert [m.text for m in fake_bot_api.sent_messages(CHAT)] == ["json body", "true"]


def test_wrong_token_and_unknown_method(fake_bot_api: FakeBotAPI) -> None:
    r = api(fake_bot_api, "getMe", _token="1:nope")
    assert r.status_code == 401 and r.json() == {
        "ok": False,
        "error_code": 401,
        "description": "Unauthorized",
    }
    r = api(fake_bot_api, "sendPoll", chat_id=CHAT)
    assert r.status_code == 404 and r.json()["description"] == "Not Found"
    r = httpx.get(fake_bot_api.file_url("nothing/here"))
    assert r.status_code == 404


def test_rate_violations_recorded_and_optionally_enforced() -> None:
    with FakeBotAPI(global_limit=5) as fake:
        for i in range(3):
            result(api(fake, "sendMessage", chat_id=CHAT, text=f"m{i}"))
        chat_v = fake.rate_violations("chat")
        assert [v.count for v in chat_v] == [2, 3]
        for i in range(4):
            result(api(fake, "sendMessage", chat_id=1000 + i, text="x"))
        assert fake.rate_violations("global")  # 7 sends within a second, limit 5
        assert fake.chat_actions() == []
    with FakeBotAPI(enforce_rate_limits=True) as fake:
        result(api(fake, "sendMessage", chat_id=CHAT, text="1"))
        r = api(fake, "sendMessage", chat_id=CHAT, text="2")
        assert r.status_code == 429 and r.json()["parameters"]["retry_after"] >= 1
        assert len(fake.sent_messages(CHAT)) == 1


def test_deletion_window_and_delete_messages(fake_bot_api: FakeBotAPI) -> None:
    fake_bot_api.inject_update(U.text_update(CHAT, "lời kể của tôi"))  # message_id 1
    for text in ("a", "b", "c"):
        result(api(fake_bot_api, "sendMessage", chat_id=CHAT, text=text))
    # the bot can delete the user's own message in a private chat too
    assert result(api(fake_bot_api, "deleteMessages", chat_id=CHAT, message_ids=[1, 2, 99]))
    assert fake_bot_api.visible_texts(CHAT) == ["b", "c"]
    fake_bot_api.advance_clock(48 * 3600 + 1)
    r = api(fake_bot_api, "deleteMessage", chat_id=CHAT, message_id=3)
    assert r.status_code == 400 and "can't be deleted for everyone" in r.json()["description"]
    assert fake_bot_api.visible_texts(CHAT) == ["b", "c"]


def test_blocked_user_and_strict_chats() -> None:
    with FakeBotAPI(strict_chats=True) as fake:
        r = api(fake, "sendMessage", chat_id=CHAT, text="x")
        assert r.status_code == 403 and "can't initiate conversation" in r.json()["description"]
        fake.inject_update(U.command_update(CHAT, "/start"))
        result(api(fake, "sendMessage", chat_id=CHAT, text="x"))
        fake.inject_update(U.blocked_update(CHAT))
        r = api(fake, "sendMessage", chat_id=CHAT, text="y")
        assert r.status_code == 403 and r.json()["description"] == (
            "Forbidden: bot was blocked by the user"
        )


def test_multipart_upload_then_download(fake_bot_api: FakeBotAPI) -> None:
    r = httpx.post(
        fake_bot_api.url("sendDocument"),
        data={"chat_id": str(CHAT), "document": "attach://f1", "caption": "biên bản"},
        files={"f1": ("report.txt", b"hello", "text/plain")},
    )
    msg = result(r)
    assert msg["caption"] == "biên bản"
    file_id = msg["document"]["file_id"]
    info = result(api(fake_bot_api, "getFile", file_id=file_id))
    assert httpx.get(fake_bot_api.file_url(info["file_path"])).content == b"hello"
    assert fake_bot_api.last_call("sendDocument").files == {"f1": b"hello"}  # type: ignore[union-attr]


def test_callback_query_message_is_refreshed_from_chat_state(fake_bot_api: FakeBotAPI) -> None:
    sent = result(
        api(
            fake_bot_api,
            "sendMessage",
            chat_id=CHAT,
            text="Bạn có an toàn không?",
            reply_markup={"inline_keyboard": [[{"text": "Có", "callback_data": "y"}]]},
        )
    )
    fake_bot_api.inject_update(U.callback_update(CHAT, "y", sent["message_id"]))
    [upd] = result(api(fake_bot_api, "getUpdates"))
    assert upd["callback_query"]["message"]["text"] == "Bạn có an toàn không?"
    assert upd["callback_query"]["message"]["reply_markup"] == sent["reply_markup"]


def test_subprocess_client(fake_bot_api: FakeBotAPI) -> None:
    script = (
        "import json, os, urllib.request, urllib.parse\n"
        "base = os.environ['HOTLINE_TELEGRAM_API_BASE']\n"
        "tok = os.environ['HOTLINE_TELEGRAM_TOKEN']\n"
        "data = urllib.parse.urlencode({'chat_id': 7, 'text': 'from a subprocess'}).encode()\n"
        "with urllib.request.urlopen(f'{base}/bot{tok}/sendMessage', data) as r:\n"
        "    print(json.load(r)['result']['message_id'])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        env=fake_bot_api.env(),
        capture_output=True,
        text=True,
        timeout=20,
        check=True,
    )
    assert out.stdout.strip() == "1"
    [msg] = fake_bot_api.wait_for_sent(7)
    assert msg.text == "from a subprocess"


def test_stop_releases_long_polls_and_threads() -> None:
    before = threading.active_count()
    fake = FakeBotAPI().start()
    results: dict[str, Any] = {}

    def poll() -> None:
        try:
            results["resp"] = api(fake, "getUpdates", timeout=30)
        except httpx.HTTPError as exc:
            results["exc"] = exc

    def slow_send() -> None:
        with contextlib.suppress(httpx.HTTPError):
            results["slow"] = api(fake, "sendMessage", chat_id=CHAT, text="x")

    fake.delay_next("sendMessage", 60)
    t = _in_thread(poll)
    t2 = _in_thread(slow_send)
    fake.wait_for(lambda: fake.polling_clients() == 1 and fake.calls("sendMessage"))
    started = time.monotonic()
    fake.stop()
    fake.stop()  # idempotent
    t.join(10)
    t2.join(10)
    assert time.monotonic() - started < 5
    assert not t.is_alive() and not t2.is_alive()
    assert threading.active_count() == before


def test_wait_for_times_out_with_context(fake_bot_api: FakeBotAPI) -> None:
    with pytest.raises(TimeoutError, match="last calls"):
        fake_bot_api.wait_for(lambda: fake_bot_api.sent_messages(CHAT), timeout=0.05)
