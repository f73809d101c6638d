"""Unit tests of the fake's parsers, decoders and a few control paths."""

from __future__ import annotations

import json
import socket

import httpx
import pytest
from telegram import Chat, Message, Update, User

from tests.fakes import updates as U
from tests.fakes.bot_api import (
    BotAPIError,
    FakeBotAPI,
    _decode_value,
    parse_html,
    parse_markdown_v2,
)


def test_form_values_decoded_like_telegram() -> None:
    assert _decode_value("chat_id", "-1001234") == -1001234
    assert _decode_value("chat_id", "@channel") == "@channel"
    assert _decode_value("text", "123") == "123"
    assert _decode_value("text", '{"a": 1}') == '{"a": 1}'
    assert _decode_value("message_id", "7") == 7
    assert _decode_value("show_alert", "true") is True
    assert _decode_value("message_ids", "[1, 2]") == [1, 2]
    assert _decode_value("reply_markup", '{"remove_keyboard": true}') == {"remove_keyboard": True}
    assert _decode_value("unknown_field", "not json") == "not json"


def test_html_parser() -> None:
    text, ents = parse_html('<b>Gọi</b> <a href="https://x.y">113</a> &lt;ngay&gt; 🆘 <i>nhé</i>')
    assert text == "Gọi 113 <ngay> 🆘 nhé"
    assert ents[0] == {"type": "bold", "offset": 0, "length": 3}
    assert ents[1] == {"type": "text_link", "offset": 4, "length": 3, "url": "https://x.y"}
    # offsets are UTF-16 code units: the emoji counts 2
    assert ents[2] == {"type": "italic", "offset": 18, "length": 3}
    text, ents = parse_html('<pre><code class="language-python">x = 1</code></pre>')
    assert text == "x = 1" and ents == [
        {"type": "pre", "offset": 0, "length": 5, "language": "python"}
    ]
    for bad in ("a <br> b", "<b>x", "<b>x</i>", "x </b>", "1 < 2"):
        with pytest.raises(BotAPIError, match="can't parse entities"):
            parse_html(bad)
    assert parse_html("a & b")[0] == "a & b"


def test_markdown_v2_parser() -> None:
    text, ents = parse_markdown_v2(r"*Khẩn cấp* gọi 113\. \(miễn phí\) [web](https://a.b/c)")
    assert text == "Khẩn cấp gọi 113. (miễn phí) web"
    assert [e["type"] for e in ents] == ["bold", "text_link"]
    assert parse_markdown_v2("`a.b` ```\ncode.!\n```")[0] == "a.b \ncode.!\n"
    for bad, ch in (("1.", "."), ("a-b", "-"), ("(x)", "("), ("x!", "!")):
        with pytest.raises(BotAPIError, match=f"Character '\\{ch}' is reserved"):
            parse_markdown_v2(bad)
    with pytest.raises(BotAPIError, match="Can't find end of Bold"):
        parse_markdown_v2("*open")


def test_inject_ptb_update_object_and_edits(fake_bot_api: FakeBotAPI) -> None:
    import datetime as dt

    u = User(id=9, first_name="A", is_bot=False)
    msg = Message(
        message_id=0,
        date=dt.datetime.now(dt.UTC),
        chat=Chat(9, Chat.PRIVATE),
        from_user=u,
        text="gốc",
    )
    fake_bot_api.inject_update(Update(update_id=0, message=msg))
    fake_bot_api.inject_update(U.edited_text_update(9, 1, "đã sửa"))
    [m] = fake_bot_api.chat_messages(9)
    assert (m.message_id, m.text, m.from_bot, m.edit_count) == (1, "đã sửa", False, 1)


def test_fail_next_matches_params_and_counts(fake_bot_api: FakeBotAPI) -> None:
    fake_bot_api.fail_next("sendMessage", status=403, count=2, match=lambda p: p["chat_id"] == 2)
    send = fake_bot_api.url("sendMessage")
    assert httpx.post(send, data={"chat_id": "1", "text": "a"}).status_code == 200
    r = httpx.post(send, data={"chat_id": "2", "text": "b"})
    assert r.status_code == 403 and r.json()["error_code"] == 403
    assert "parameters" not in r.json()
    assert fake_bot_api.pending_failures() == 1
    assert httpx.post(send, data={"chat_id": "2", "text": "c"}).status_code == 403
    assert httpx.post(send, data={"chat_id": "2", "text": "d"}).status_code == 200
    assert [m.text for m in fake_bot_api.sent_messages()] == ["a", "d"]


def test_webhook_to_closed_port_records_error_and_keeps_update(fake_bot_api: FakeBotAPI) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/hook"
    r = httpx.post(fake_bot_api.url("setWebhook"), data={"url": url, "secret_token": "t"})
    assert r.json() == {"ok": True, "result": True}
    uid = fake_bot_api.inject_update(U.text_update(1, "x"))
    fake_bot_api.wait_for(lambda: len(fake_bot_api.webhook_deliveries()) >= 2)
    info = httpx.get(fake_bot_api.url("getWebhookInfo")).json()["result"]
    assert info["url"] == url and info["pending_update_count"] == 1
    assert info["last_error_message"].startswith("Connection failed")
    assert fake_bot_api.update_state(uid) == "pending"
    # a bad secret or a non-loopback url is refused
    bad = httpx.post(fake_bot_api.url("setWebhook"), data={"url": url, "secret_token": "a b"})
    assert bad.status_code == 400
    remote = httpx.post(fake_bot_api.url("setWebhook"), data={"url": "https://example.org/x"})
    assert remote.status_code == 400
    # deleting it hands the update back to getUpdates
    httpx.post(fake_bot_api.url("deleteWebhook"))
    got = httpx.post(fake_bot_api.url("getUpdates")).json()["result"]
    assert [u["update_id"] for u in got] == [uid]
    json.dumps(got)
