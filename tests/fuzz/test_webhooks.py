"""Webhook bodies (Telegram, Zalo) from outside: any body gets 200 (handed on) or 400
(malformed), never a server error; what is handed on converts to an engine event."""

from __future__ import annotations

import json
from types import SimpleNamespace

from aiogram import Bot
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from bot.hot_posts import install_hot_posts
from bot.settings import Settings
from bot.telegram import webhook as telegram_webhook
from bot.telegram.convert import message_event
from bot.zalo import webhook as zalo_webhook
from bot.zalo.convert import update_event
from bot.zalo.models import ZaloUpdate
from dialogs import events as E
from tests.fuzz import FUZZ

SECRET = "fuzz-secret"
TOKEN = "123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

JSON_LEAF = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=40))
ANY_JSON = st.recursive(
    JSON_LEAF,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
IDS = st.one_of(st.integers(-(2**63), 2**63), st.text(max_size=20), st.none())
TEXTS = st.one_of(st.none(), st.text(max_size=200), st.integers())


def _telegram_update() -> st.SearchStrategy[dict]:
    chat = st.fixed_dictionaries({"id": IDS, "type": st.sampled_from(["private", "group", "x"])})
    user = st.fixed_dictionaries({"id": IDS, "is_bot": st.booleans(), "first_name": TEXTS})
    message = st.fixed_dictionaries(
        {"message_id": IDS, "date": IDS, "chat": chat},
        optional={
            "from": user,
            "text": TEXTS,
            "caption": TEXTS,
            "location": st.fixed_dictionaries({"latitude": st.floats(), "longitude": st.floats()}),
            "contact": st.fixed_dictionaries({"phone_number": TEXTS, "first_name": TEXTS}),
            "voice": st.fixed_dictionaries(
                {"file_id": TEXTS, "file_unique_id": TEXTS, "duration": IDS}
            ),
            "photo": st.lists(
                st.fixed_dictionaries(
                    {"file_id": TEXTS, "file_unique_id": TEXTS, "width": IDS, "height": IDS}
                ),
                max_size=2,
            ),
        },
    )
    callback = st.fixed_dictionaries(
        {"id": TEXTS, "from": user, "chat_instance": TEXTS},
        optional={"data": TEXTS, "message": message},
    )
    return st.fixed_dictionaries(
        {"update_id": IDS}, optional={"message": message, "callback_query": callback}
    )


def _zalo_update() -> st.SearchStrategy[dict]:
    message = st.fixed_dictionaries(
        {
            "from": st.fixed_dictionaries({"id": IDS}, optional={"display_name": TEXTS}),
            "chat": st.fixed_dictionaries({"id": IDS}, optional={"chat_type": TEXTS}),
        },
        optional={"message_id": IDS, "text": TEXTS, "photo_url": TEXTS, "caption": TEXTS},
    )
    event = st.sampled_from(
        ["message.text.received", "message.image.received", "message.sticker.received", "x"]
    )
    update = st.fixed_dictionaries({"event_name": event}, optional={"message": message})
    return st.one_of(update, update.map(lambda u: {"ok": True, "result": u}))


BODIES = {
    "telegram": st.one_of(
        _telegram_update().map(json.dumps), ANY_JSON.map(json.dumps), st.text(max_size=100)
    ),
    "zalo": st.one_of(
        _zalo_update().map(json.dumps), ANY_JSON.map(json.dumps), st.text(max_size=100)
    ),
}


class _Recorder:
    """Stands for the webhook's commit groups and the Zalo channel: converts what it is
    handed."""

    def __init__(self) -> None:
        self.events: list[E.Event] = []

    async def store(self, update) -> bool:
        if isinstance(update, ZaloUpdate):
            self.events.append(update_event(update))
        elif update.message is not None:
            self.events.append(message_event(update.message))
        return True


def _client() -> tuple[TestClient, _Recorder]:
    recorder = _Recorder()
    app = FastAPI()
    install_hot_posts(app)
    app.state.runtime = SimpleNamespace(
        settings=Settings(webhook_secret=SECRET),
        bot=Bot(TOKEN),
        webhook_groups=recorder,
        zalo=recorder,
        zalo_groups=recorder,
    )
    return TestClient(app, raise_server_exceptions=True), recorder


CLIENT, RECORDER = _client()
HEADERS = {
    "telegram": {telegram_webhook.SECRET_HEADER: SECRET, "Content-Type": "application/json"},
    "zalo": {zalo_webhook.SECRET_HEADER: SECRET, "Content-Type": "application/json"},
}
PATHS = {"telegram": telegram_webhook.PATH, "zalo": zalo_webhook.PATH}


def _post(channel: str, body: str) -> int:
    handed_on = len(RECORDER.events)
    answer = CLIENT.post(PATHS[channel], content=body.encode(), headers=HEADERS[channel])
    assert answer.status_code in (200, 400), (answer.status_code, body)
    if answer.status_code == 400:
        assert len(RECORDER.events) == handed_on  # refused bodies go nowhere
    return answer.status_code


@FUZZ
@given(BODIES["telegram"])
def test_any_telegram_webhook_body_is_handled_or_refused(body):
    _post("telegram", body)


@FUZZ
@given(BODIES["zalo"])
def test_any_zalo_webhook_body_is_handled_or_refused(body):
    _post("zalo", body)


def test_the_fuzzed_updates_reach_the_handlers():
    """The strategies are not all refused: well-formed updates are handed on."""
    update = {"update_id": 1, "message": {"message_id": 1, "date": 0, "chat": {"id": 5, "type": "private"}, "text": "hi"}}  # fmt: skip
    assert _post("telegram", json.dumps(update)) == 200
    zalo = {"event_name": "message.text.received", "message": {"from": {"id": "1"}, "chat": {"id": "1"}, "text": "hi"}}  # fmt: skip
    assert _post("zalo", json.dumps(zalo)) == 200
    assert RECORDER.events[-2:] == [E.Text("hi"), E.Text("hi")]
