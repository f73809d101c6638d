"""Chat text and button data from outside go into the pure engine: any text or callback
data on any screen gets an answer and a state that can be stored, never an exception."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from bot.zalo.convert import text_event
from dialogs import actions as A
from dialogs import events as E
from dialogs.focal_texts import PREFIX, parse_data
from tests.dialogs.helpers import Bot
from tests.fuzz import FUZZ

ANY_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=600)
# Data shaped like the engine's own ("<token>.<code>"), like a focal button's, or anything.
CALLBACK_DATA = st.one_of(
    st.builds(lambda tok, code: f"{tok}.{code}", st.text("0123456789abcdef", max_size=4), ANY_TEXT),
    st.builds(lambda rest: PREFIX + rest, ANY_TEXT),
    st.sampled_from([A.EXIT, A.SOS, A.LANG]),
    ANY_TEXT,
)


def _on_some_screen(taps: list[int]) -> Bot:
    """A conversation walked by tapping offered options (indices drawn by Hypothesis)."""
    bot = Bot()
    bot.cmd("start")
    for tap in taps:
        options = [o for o in (bot.screen.options if bot.screen else ()) if "." in o.data]
        if not options:
            break
        bot.send(E.Choice(options[tap % len(options)].data))
    return bot


def _answered(bot: Bot) -> None:
    # An answer now, or work for the caller whose result the engine answers.
    assert bot.actions or bot.commands, "an input got no answer"
    json.dumps(bot.state)  # storable


@FUZZ
@given(st.lists(st.integers(0, 50), max_size=25), ANY_TEXT)
def test_any_text_on_any_screen_is_answered(taps, text):
    bot = _on_some_screen(taps)
    bot.send(text_event(text))  # as the Zalo and Telegram converters make it
    _answered(bot)


@FUZZ
@given(st.lists(st.integers(0, 50), max_size=25), CALLBACK_DATA)
def test_any_callback_data_on_any_screen_is_answered(taps, data):
    bot = _on_some_screen(taps)
    bot.send(E.Choice(data))
    _answered(bot)


@FUZZ
@given(CALLBACK_DATA)
def test_focal_callback_data_parses_or_is_not_ours(data):
    parsed = parse_data(data)
    assert parsed is None or (len(parsed) == 3 and all(isinstance(p, str) for p in parsed))
