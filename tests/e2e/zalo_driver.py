"""A person on Zalo, driven through the fake Zalo Bot API: no buttons, only typing.

Every choice is made by typing the number shown in front of it ("1. …", "Trả lời 1, 2
hoặc 3"). :meth:`ZaloPerson.choose` takes the option's *code* (as in
``tests/dialogs/test_flows.py``), finds its label in the newest numbered prompt newer than
the last one answered (labels come from the flows and the catalog of the person's
language), and types its number. Updates are handled in order, so a test can type ahead
without waiting; it waits only to *read* a new prompt.
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import cache

from dialogs import pictograms
from dialogs.flows import FIX, STEPS
from dialogs.i18n import LANG_NAMES, translator
from tests.fakes.zalo_api import ChatMessage, FakeZaloAPI

TIMEOUT = 20.0
_CODE = re.compile(r"(\d{4}[ -]?){3}\d{4}")
_LINE = re.compile(r"^(\d+)\. (.+)$")
_MARKS = ("✅ ", "▫️ ")


@cache
def labels_by_code(lang: str) -> dict[str, frozenset[str]]:
    """Every label an option code can have in ``lang`` (codes repeat across steps)."""
    tr = translator(lang)
    found: dict[str, set[str]] = defaultdict(set)
    for step in STEPS.values():
        for option in step.options:
            found[option.code].add(tr.gettext(option.label))
    for rows in FIX.values():
        for code, label, _target in rows:
            found[code].add(tr.gettext(label))
    for code, msgid in [
        ("done", "opt.done"),
        ("skip", "opt.skip"),
        ("skip", "opt.not_sure"),
        ("none", "place.none_of_these"),
        ("keep", "place.keep"),
        ("back", "opt.back"),
        ("retry", "opt.retry"),
        ("x", "opt.exit"),
        ("sos", "opt.sos"),
        ("lang", "opt.lang"),
        ("ear", "opt.listen"),
        ("ear", "opt.listen_off"),
    ]:
        found[code].add(tr.gettext(msgid))
    for code, name in LANG_NAMES.items():
        found[f"l_{code}"].add(name)
    # as Zalo shows a choice: its pictogram's emoji before its words (dialogs.pictograms)
    return {
        code: frozenset(labels | {pictograms.emoji_label(label, lang) for label in labels})
        for code, labels in found.items()
    }


def numbered(text: str | None) -> list[tuple[int, str]]:
    """The numbered choices at the end of a message: [(number, label)]."""
    if not text:
        return []
    blocks = text.split("\n\n")
    if len(blocks) < 3:
        return []
    out = []
    for line in blocks[-2].splitlines():
        match = _LINE.match(line)
        if not match:
            return []
        label = match.group(2)
        for mark in _MARKS:
            label = label.removeprefix(mark)
        out.append((int(match.group(1)), label))
    return out


class ZaloPerson:
    def __init__(self, fake: FakeZaloAPI, user_id: str, lang: str = "vi") -> None:
        self.fake, self.user_id, self.lang = fake, str(user_id), lang
        self.last_seq = 0
        self.typed: list[str] = []

    # -- what the person does ---------------------------------------------------------------

    def say(self, text: str) -> None:
        self.typed.append(text)
        self.fake.inject_text(self.user_id, text)

    def send_photo(self, url: str) -> None:
        self.fake.inject_image(self.user_id, url)

    async def choose(self, code: str) -> ChatMessage:
        """Type the number of option ``code`` on the newest prompt offering it."""
        floor = self.last_seq + 1
        message, number = await self.fake.async_wait_for(lambda: self._find(code, floor), TIMEOUT)
        self.last_seq = message.seq
        self.say(str(number))
        return message

    async def offered(self, code: str) -> ChatMessage:
        """Wait (without typing) for a prompt newer than the last answered offering ``code``."""
        floor = self.last_seq + 1
        message, _n = await self.fake.async_wait_for(lambda: self._find(code, floor), TIMEOUT)
        return message

    def _number_for(self, code: str, options: list[tuple[int, str]]) -> int | None:
        if re.fullmatch(r"c\d+", code):  # commune candidates come first, then "none of these"
            none = labels_by_code(self.lang)["none"]
            if any(label in none for _n, label in options):
                index = int(code[1:])
                return options[index][0] if index < len(options) - 1 else None
            return None
        wanted = labels_by_code(self.lang).get(code, frozenset())
        return next((n for n, label in options if label in wanted), None)

    def _find(self, code: str, floor: int):
        best = None
        for message in self.visible():
            if message.seq < floor:
                continue
            number = self._number_for(code, numbered(message.text))
            if number is not None:
                best = (message, number)
        return best

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
        numbered choices, else the first later message that does (the screen shown again)."""

        def seen():
            later = [m for m in self.visible() if m.seq >= message.seq and numbered(m.text)]
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
