"""A tiny driver for the pure engine: keeps the state, taps options by code."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from dialogs import actions as A
from dialogs import events as E
from dialogs import handle
from dialogs.flows import DANGER_QUESTIONS

T0 = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)
# The survivor flow's danger questions, all skipped (what scripted reports tap after "when").
DANGER_SKIPPED = ("skip",) * len(DANGER_QUESTIONS)


class Bot:
    def __init__(self, lang: str | None = None, now: datetime = T0):
        self.state: dict | None = None
        self.now = now
        self.actions: list = []
        self.commands: list = []
        self.history: list = []
        self.screen: A.Send | A.Edit | None = None  # the latest message with options
        if lang:
            self.cmd("start")
            self.tap_global(A.LANG)
            self.tap(f"l_{lang}")

    def send(self, ev, *, tick: float = 1.0, roundtrip: bool = True):
        self.now = self.now + timedelta(seconds=tick)
        state, acts, cmds = handle(self.state, ev, self.now)
        if roundtrip:  # the caller stores the state as JSON
            state = json.loads(json.dumps(state))
        self.state = state
        self.actions, self.commands = acts, cmds
        self.history.append((ev, acts, cmds))
        for a in acts:
            if isinstance(a, (A.Send, A.Edit)) and a.options:
                self.screen = a
        return acts, cmds

    # --- person ---
    def cmd(self, name, arg=None):
        return self.send(E.Command(name, arg))

    def text(self, text):
        return self.send(E.Text(text))

    def option(self, code: str) -> A.Option:
        assert self.screen is not None, "no screen"
        for o in self.screen.options:
            if o.data.rpartition(".")[2] == code and "." in o.data:
                return o
        raise AssertionError(f"no option {code!r} in {[o.data for o in self.screen.options]}")

    def tap(self, code: str):
        return self.send(E.Choice(self.option(code).data))

    def tap_global(self, data: str):
        return self.send(E.Choice(data))

    # --- views ---
    @property
    def sends(self) -> list[A.Send]:
        return [a for a in self.actions if isinstance(a, A.Send)]

    @property
    def last_text(self) -> str:
        texts = [a.text for a in self.actions if isinstance(a, (A.Send, A.Edit))]
        return texts[-1] if texts else ""

    @property
    def step(self) -> str:
        return self.state["s"]

    def codes(self) -> list[str]:
        return [o.data.rpartition(".")[2] for o in self.screen.options if "." in o.data]


def skip_danger_questions(bot) -> None:
    """The survivor flow's danger questions (dialogs.flows.DANGER_QUESTIONS), all skipped."""
    for _field, step_id, _label, _sign in DANGER_QUESTIONS:
        assert bot.step == step_id, bot.step
        bot.tap("skip")
