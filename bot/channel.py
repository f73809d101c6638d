"""What every channel adapter provides: its capabilities, a renderer, a transport.

A *renderer* turns the engine's actions into outbox payloads (Bot API calls) for one
chat. A *transport* performs one call against the channel's server and says whether to
retry. The outbox and the sender sit between them, so a crash or a server outage between
deciding and sending loses nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Protocol

from dialogs import actions as A


@dataclass(frozen=True)
class Capabilities:
    """What a channel can do; options render as buttons or as numbered choices from this."""

    inline_buttons: bool
    delete_messages: bool
    edit_messages: bool
    request_location: bool
    voice: bool
    max_text: int


def lacking(capabilities: Capabilities) -> set[str]:
    """The names of the capabilities a channel does not have (what its texts must not
    claim: :data:`dialogs.channel_texts.CLAIMS`)."""
    return {name for name, has in asdict(capabilities).items() if has is False}


@dataclass(frozen=True)
class Call:
    """One queued call: a Bot API method (or a pseudo-method the sender resolves)."""

    method: str
    params: dict[str, Any]


class Renderer(Protocol):
    capabilities: Capabilities

    def render(
        self, action: A.Action, chat_id: int | str, *, incoming: list[int], lang: str
    ) -> list[Call]:
        """The calls that carry out ``action`` in chat ``chat_id`` for a person reading
        ``lang``; ``incoming`` are the person's recent message ids (for quick exit)."""


class RetryLater(Exception):
    """The call was not carried out (429, 5xx, timeout); try again after ``after`` seconds."""

    def __init__(self, after: float | None = None, reason: str = "") -> None:
        super().__init__(reason or "retry later")
        self.after = after


class Refused(Exception):
    """The server refused the call for good (bot blocked, bad request): do not retry."""


class Transport(Protocol):
    async def call(self, method: str, params: dict[str, Any]) -> dict[str, Any] | None:
        """Carry out one call; returns what to remember of the answer (e.g. message_id).

        Raises :class:`RetryLater` or :class:`Refused`. Messages never carry content.
        """
