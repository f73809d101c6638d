"""Zalo updates: strict, minimal parsing; display names never read; events for the engine."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.zalo.convert import update_event
from bot.zalo.handlers import CHANNEL, inbound_of
from bot.zalo.models import ZaloUpdate
from dialogs import events as E


def update(event="message.text.received", chat_type="PRIVATE", **message):
    return ZaloUpdate.model_validate(
        {
            "event_name": event,
            "message": {
                "message_id": "m1",
                "date": 1750316131602,
                "from": {"id": "u1", "display_name": "CANARY-NAME", "is_bot": False},
                "chat": {"id": "u1", "chat_type": chat_type},
                **message,
            },
        }
    )


def test_display_names_are_not_even_parsed():
    parsed = update(text="hi")
    assert "CANARY-NAME" not in repr(parsed) and "CANARY-NAME" not in parsed.model_dump_json()


@pytest.mark.parametrize(
    ("text", "event"),
    [
        ("xin chào", E.Text("xin chào")),
        ("2", E.Text("2")),
        ("/start", E.Command("start")),
        ("/start en", E.Command("start", "en")),
        ("/code 1234 5678", E.Command("code", "1234 5678")),
        ("/unknown", E.Text("/unknown")),
    ],
)
def test_texts_and_commands(text, event):
    assert update_event(update(text=text)) == event


def test_images_are_references_and_the_rest_a_kind_reprompt():
    assert update_event(update("message.image.received", photo_url="https://x/p.jpg")) == E.Media(
        "photo", "https://x/p.jpg"
    )
    assert update_event(update("message.image.received", photo="https://x/q.jpg")).ref.endswith(
        "q.jpg"
    )
    assert update_event(update("message.sticker.received", sticker="abc")) == E.Text("")
    assert update_event(update("message.unsupported.received")) == E.Text("")


def test_inbound_uses_ids_only_and_ignores_groups():
    inbound = inbound_of(update(text="hi"))
    assert inbound.channel == CHANNEL and inbound.user_id == "u1" and inbound.chat_id == "u1"
    # No message to delete on Zalo; the message id tells a delivery again (bot.deliveries).
    assert inbound.message_id is None and inbound.update_id == "m1"
    assert inbound_of(update(chat_type="GROUP", text="hi")) is None
    assert inbound_of(ZaloUpdate(event_name="message.text.received")) is None


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"event_name": "message.text.received", "message": {"text": "no sender"}},
        {"event_name": "x", "message": {"from": {"id": ""}, "chat": {"id": "c"}}},
        {"event_name": "x" * 100},
    ],
)
def test_malformed_updates_are_refused(payload):
    with pytest.raises(ValidationError):
        ZaloUpdate.model_validate(payload)


def test_numeric_ids_are_read_as_strings():
    parsed = ZaloUpdate.model_validate(
        {"event_name": "e", "message": {"message_id": 5, "from": {"id": 42}, "chat": {"id": 42}}}
    )
    assert parsed.message.sender.id == "42" and parsed.message.message_id == "5"
