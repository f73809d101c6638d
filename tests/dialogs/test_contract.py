"""The engine's contract with the channel adapters."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import dialogs
from dialogs import actions as A
from dialogs import events as E
from dialogs.flows import STEPS, check
from dialogs.i18n import LANG_NAMES, LANGUAGES, translator
from tests.dialogs.helpers import Bot

PURE = [
    "engine.py",
    "flows.py",
    "report.py",
    "text.py",
    "events.py",
    "actions.py",
    "commands.py",
    "_types.py",
    "outbound.py",
]
FORBIDDEN_MODULES = {
    "time",
    "random",
    "secrets",
    "os",
    "socket",
    "aiogram",
    "sqlalchemy",
    "sqlmodel",
    "uuid",
    "asyncio",
    "httpx",
    "requests",
    "storage",
    "routing",
    "bot",
}


@pytest.mark.parametrize("name", PURE)
def test_engine_modules_are_pure(name):
    src = Path(dialogs.__file__).with_name(name).read_text(encoding="utf-8")
    tree = ast.parse(src)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            mods = {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            mods = {(node.module or "").split(".")[0]}
        else:
            mods = set()
        assert not (mods & FORBIDDEN_MODULES), (name, mods)
        if (
            isinstance(node, ast.Attribute)
            and node.attr in ("now", "utcnow", "today")
            and isinstance(node.value, ast.Name)
            and node.value.id in ("datetime", "date")
        ):
            raise AssertionError(f"{name} reads the clock")
        if isinstance(node, ast.Name) and node.id == "open":
            raise AssertionError(f"{name} opens files")


def test_flows_are_consistent():
    check()
    for step in STEPS.values():
        for o in step.options:
            assert translator("vi").gettext(o.label) != o.label


def test_typed_number_for_danger_gives_numbers_next():
    bot = Bot()
    bot.cmd("start")
    bot.text("2")  # "I am in danger now" is the second option
    (msg,) = bot.sends
    assert all(n in msg.text for n in ("113", "115", "111"))
    assert msg.request_location


def test_language_names_in_their_own_script():
    bot = Bot()
    bot.cmd("start")
    bot.tap_global(A.LANG)
    labels = [o.label for o in bot.screen.options if o.data.rpartition(".")[2].startswith("l_")]
    assert [label.split(" — ")[0] for label in labels] == [LANG_NAMES[c] for c in LANGUAGES]
    assert "Tiếng Việt" in labels and "English" in labels  # full: by their own name only


def test_language_is_remembered_across_conversations():
    bot = Bot(lang="en")
    bot.cmd("exit")
    bot.text("hello")
    assert bot.state["l"] == "en"
    assert bot.last_text.startswith(translator("en").gettext("start.intro")[:20])


def test_choice_data_short_and_tokenised():
    bot = Bot()
    bot.cmd("start")
    for o in bot.screen.options:
        assert len(o.data.encode()) <= 32
        assert o.data in A.GLOBAL_DATA or "." in o.data


def test_public_api():
    assert callable(dialogs.handle) and callable(dialogs.is_expired)
    assert callable(dialogs.render_numbered) and callable(dialogs.catalog_status)
    assert dialogs.STATE_VERSION == 1
    for cls in (E.Text, E.Choice, E.Location, E.Contact, E.Media, E.Command):
        assert cls.__dataclass_params__.frozen
