"""A person on Telegram, driven through the fake Bot API (updates built by python-telegram-bot).

Updates are handled in order, so a test can type and tap without waiting for replies; it
waits only to *read* a new prompt: each prompt's buttons carry a counter (``"<n>.<code>"``),
so :meth:`TelegramPerson.tap` waits for a prompt newer than the last one it answered.
"""

from __future__ import annotations

import re

from tests.fakes import updates as U
from tests.fakes.bot_api import ChatMessage, FakeBotAPI

TIMEOUT = 20.0
_CODE = re.compile(r"(\d{4}[ -]?){3}\d{4}")


def _counter(token: str) -> int | None:
    """The prompt counter in option data (base 36, as the engine writes it)."""
    try:
        return int(token, 36) if token else None
    except ValueError:
        return None


class TelegramPerson:
    def __init__(self, fake: FakeBotAPI, user_id: int) -> None:
        self.fake, self.user_id = fake, user_id
        self.last_n = -1

    # -- what the person does ---------------------------------------------------------------

    def say(self, text: str) -> None:
        self.fake.inject_update(U.text_update(self.user_id, text))

    def command(self, text: str) -> None:
        self.fake.inject_update(U.command_update(self.user_id, text))

    def share_location(self, lat: float, lon: float) -> None:
        self.fake.inject_update(U.location_update(self.user_id, lat, lon))

    def voice(self, file_id: str) -> None:
        self.fake.inject_update(U.voice_update(self.user_id, file_id))

    def press(self, data: str, message_id: int) -> None:
        self.fake.inject_update(U.callback_update(self.user_id, data, message_id))

    async def tap(self, code: str, *, same_screen: bool = False) -> ChatMessage:
        """Press the option ``code`` on the newest prompt offering it (a newer prompt than the
        last one answered, unless ``same_screen`` for toggles on a multi-choice message)."""
        floor = self.last_n if same_screen else self.last_n + 1
        message, data, n = await self.fake.async_wait_for(lambda: self._find(code, floor), TIMEOUT)
        self.last_n = n
        self.press(data, message.message_id)
        return message

    async def offered(self, code: str) -> ChatMessage:
        """Wait (without pressing) for a prompt newer than the last answered offering ``code``."""
        floor = self.last_n + 1
        message, _data, _n = await self.fake.async_wait_for(
            lambda: self._find(code, floor), TIMEOUT
        )
        return message

    async def tap_global(self, data: str) -> None:
        message = await self.fake.async_wait_for(lambda: self._with_button(data), TIMEOUT)
        self.press(data, message.message_id)

    # -- what the person sees ---------------------------------------------------------------

    def visible(self) -> list[ChatMessage]:
        return self.fake.sent_messages(self.user_id)

    async def wait_text(self, fragment: str) -> ChatMessage:
        def seen():
            return next(
                (m for m in reversed(self.visible()) if m.text and fragment in m.text), None
            )

        return await self.fake.async_wait_for(seen, TIMEOUT)

    async def options_from(self, message: ChatMessage) -> ChatMessage:
        """The way on from ``message`` (news of a case): the message itself when it carries
        buttons, else the first later message that does (the screen shown again)."""

        def seen():
            later = [m for m in self.visible() if m.message_id >= message.message_id and m.buttons]
            return later[0] if later else None

        return await self.fake.async_wait_for(seen, TIMEOUT)

    async def receipt_code(self) -> tuple[str, ChatMessage]:
        def seen():
            for message in reversed(self.visible()):
                found = _CODE.search(message.text or "")
                if found:
                    return found.group(0), message
            return None

        return await self.fake.async_wait_for(seen, TIMEOUT)

    def _find(self, code: str, floor: int):
        best = None
        for message in self.visible():
            for button in message.buttons:
                head, _, tail = str(button.get("callback_data", "")).rpartition(".")
                n = _counter(head)
                if tail == code and n is not None and n >= floor:
                    if best is None or n >= best[2]:
                        best = (message, button["callback_data"], n)
        return best

    def _with_button(self, data: str):
        for message in reversed(self.visible()):
            if any(button.get("callback_data") == data for button in message.buttons):
                return message
        return None
