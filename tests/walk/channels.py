"""Three thin channel adapters for the walker: what a person can do on each channel, and
what they see there, through the channel's real interface.

Each adapter returns from an action only once the app is done with it (the web answer
came; the Telegram update is confirmed, i.e. committed; the Zalo update is handled) and
every message it queued went out. What a person sees is a list of :class:`Message`, the
newest last; an option's ``key`` is what pressing it sends (button data, or the number to
type on Zalo).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.e2e.zalo_driver import numbered
from tests.fakes import updates as U
from tests.walk.stack import Stack
from tests.web.driver import WebPerson


@dataclass(frozen=True)
class Option:
    key: str  # web/Telegram: the option's data; Zalo: the number to type
    label: str
    code: str | None  # the option's code ("<token>.<code>" → code; globals: x, sos, lang)


@dataclass(frozen=True)
class Message:
    text: str
    options: tuple[Option, ...] = ()
    ref: Any = None  # Telegram: the message id a button press refers to


def _code(data: str) -> str:
    return data.rpartition(".")[2]


class ServerError(AssertionError):
    pass


@dataclass
class Channel:
    """The interface the walker uses; see the three subclasses."""

    stack: Stack
    user: str
    name: str = ""
    can_share_location: bool = False
    statuses: list[int] = field(default_factory=list)

    def start(self, lang: str | None) -> None: ...
    def press(self, message: Message, option: Option) -> None: ...
    def type(self, text: str) -> None: ...
    def location(self, lat: float, lon: float) -> None: ...
    def command(self, name: str, arg: str | None = None) -> None: ...
    def quick_exit(self) -> None: ...
    def seen(self) -> list[Message]: ...

    @property
    def identity(self) -> str:
        """The user id the conversation is keyed by (storage.conversations)."""
        return self.user


# -- web chat ------------------------------------------------------------------------------------


class WebChannel(Channel):
    """The web chat's JSON API, as the page uses it (tests/web/driver.py)."""

    def __init__(self, stack: Stack, user: str) -> None:
        super().__init__(stack, user, "web", can_share_location=True)
        self.person: WebPerson | None = None
        self.exited = False

    def _check(self, answer: httpx.Response) -> None:
        self.statuses.append(answer.status_code)
        if answer.status_code >= 500:
            raise ServerError(f"web: HTTP {answer.status_code}: {answer.text[:300]}")
        if answer.status_code == 429:
            raise ServerError("web: rate limited (the stack's limits are too low for a walk)")

    def _after(self) -> None:
        self.stack.wait_sent()  # cards and relays to focal points (Telegram)

    def start(self, lang: str | None) -> None:
        if self.person is not None:
            self.person.close()
        self.person = WebPerson(self.stack.live.url, lang)
        answer = self.person.http.post("/api/chat/start", json={"lang": lang})
        self._check(answer)
        body = answer.json()
        self.person.session = body["session"]
        self.person._apply(body)
        self.exited = False
        self._after()

    @property
    def identity(self) -> str:
        assert self.person is not None and self.person.session is not None
        return self.person.session

    def _event(self, event: dict) -> None:
        assert self.person is not None
        self._check(self.person.event(event))
        self._after()

    def press(self, message: Message, option: Option) -> None:
        self._event({"kind": "choice", "data": option.key})

    def type(self, text: str) -> None:
        self._event({"kind": "text", "text": text[:8000]})

    def location(self, lat: float, lon: float) -> None:
        self._event({"kind": "location", "lat": lat, "lon": lon})

    def command(self, name: str, arg: str | None = None) -> None:
        self._event({"kind": "command", "name": name, "arg": arg})

    def quick_exit(self) -> None:
        """The page's quick exit: POST /api/chat/exit, then the page is wiped."""
        assert self.person is not None
        answer = self.person.http.post("/api/chat/exit", headers={"X-Session": self.person.session})
        self._check(answer)
        self.person.messages = []
        self.exited = True
        self._after()

    def seen(self) -> list[Message]:
        if self.person is None:
            return []
        return [
            Message(
                m.get("text") or "",
                tuple(Option(o["data"], o["label"], _code(o["data"])) for o in m["options"]),
            )
            for m in self.person.messages
        ]

    def close(self) -> None:
        if self.person is not None:
            self.person.close()


# -- Telegram ------------------------------------------------------------------------------------


class TelegramChannel(Channel):
    """Updates injected into the fake Bot API, built with python-telegram-bot's objects."""

    def __init__(self, stack: Stack, user: int) -> None:
        super().__init__(stack, str(user), "telegram", can_share_location=True)
        self.user_id = user

    def _send(self, update: Any) -> None:
        update_id = self.stack.telegram.inject_update(update)
        self.stack.wait_telegram_handled(update_id)
        self.stack.wait_sent()

    def start(self, lang: str | None) -> None:
        self.command("start", lang)

    def press(self, message: Message, option: Option) -> None:
        if option.key.startswith(WORD):  # a reply keyboard's button sends its word
            return self.type(option.label)
        self._send(U.callback_update(self.user_id, option.key, message.ref))

    def type(self, text: str) -> None:
        self._send(U.text_update(self.user_id, text[:4096] or " "))

    def location(self, lat: float, lon: float) -> None:
        self._send(U.location_update(self.user_id, lat, lon))

    def command(self, name: str, arg: str | None = None) -> None:
        self._send(U.command_update(self.user_id, f"/{name}" + (f" {arg}" if arg else "")))

    def quick_exit(self) -> None:
        self.command("exit")

    def seen(self) -> list[Message]:
        seen = [
            Message(m.text or "", _buttons(m.buttons), m.message_id)
            for m in self.stack.telegram.sent_messages(self.user_id)
            if m.kind != "voice"  # a prompt read aloud ("nghe") repeats the screen before it
        ]
        # A step asking for a location shows a reply keyboard (its options as words);
        # Telegram keeps it under the chat, not on the message.
        keyboard = self.stack.telegram.reply_keyboard(self.user_id)
        if seen and keyboard and not seen[-1].options:
            seen[-1] = Message(seen[-1].text, _words(keyboard), seen[-1].ref)
        return seen


WORD = "word:"


def _buttons(buttons: list[dict]) -> tuple[Option, ...]:
    return tuple(
        Option(b["callback_data"], b.get("text", ""), _code(b["callback_data"]))
        for b in buttons
        if b.get("callback_data")
    )


def _words(keyboard: dict) -> tuple[Option, ...]:
    """A reply keyboard's word buttons (its location button is the ``location`` action)."""
    return tuple(
        Option(WORD + b["text"], b["text"], None)
        for row in keyboard.get("keyboard", [])
        for b in row
        if isinstance(b, dict)
        and b.get("text")
        and not (b.get("request_location") or b.get("request_contact"))
    )


# -- Zalo -------------------------------------------------------------------------------------


class ZaloChannel(Channel):
    """Texts injected into the fake Zalo server; choices are typed numbers."""

    def __init__(self, stack: Stack, user: str) -> None:
        super().__init__(stack, user, "zalo")

    def _say(self, text: str) -> None:
        target = self.stack.zalo_handled() + 1
        self.stack.zalo.inject_text(self.user, text)
        self.stack.wait_zalo_handled(target)
        self.stack.wait_sent()

    def start(self, lang: str | None) -> None:
        self.command("start", lang)

    def press(self, message: Message, option: Option) -> None:
        self._say(option.key)

    def type(self, text: str) -> None:
        self._say(text[:2000])

    def location(self, lat: float, lon: float) -> None:
        raise NotImplementedError("Zalo bots cannot receive a location")

    def command(self, name: str, arg: str | None = None) -> None:
        self._say(f"/{name}" + (f" {arg}" if arg else ""))

    def quick_exit(self) -> None:
        self.command("exit")

    def seen(self) -> list[Message]:
        out = []
        for m in self.stack.zalo.sent_messages(self.user):
            options = tuple(Option(str(n), label, None) for n, label in numbered(m.text))
            out.append(Message(m.text or "", options, m.seq))
        return out


_ids = itertools.count(1)


def make_channel(stack: Stack, name: str) -> Channel:
    """A new person on channel ``name`` (a fresh user id each time)."""
    n = next(_ids)
    if name == "web":
        return WebChannel(stack, f"web-{n}")
    if name == "telegram":
        return TelegramChannel(stack, 738_100_000_000 + n)
    if name == "zalo":
        return ZaloChannel(stack, f"{7_381_000_000_000 + n}")
    raise ValueError(f"unknown channel {name!r}")
