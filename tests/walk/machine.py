"""The walker as a Hypothesis state machine: each example is one new person on one channel,
each rule one thing they do; :class:`tests.walk.model.Walk` checks the invariants after
every step. ``machine_for(stack, channel)`` binds a running stack and a channel."""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule

from tests.walk.inputs import ALPHABET, COMMANDS, FOCAL, LANGS, PLACES, TEXTS
from tests.walk.model import Walk
from tests.walk.stack import Stack

texts = st.one_of(
    st.sampled_from(TEXTS),
    st.text(alphabet=ALPHABET, min_size=1, max_size=80),
    st.integers(-5, 10**19).map(str),
)
picks = st.integers(0, 63)


class WalkMachine(RuleBasedStateMachine):
    stack: Stack
    channel: str

    def __init__(self) -> None:
        super().__init__()
        self.walk = Walk(self.stack, self.channel)

    @initialize(lang=st.sampled_from(LANGS))
    def start(self, lang):
        self.walk.start(lang)

    # pressing what the current prompt offers is what people do most: two rules for it
    @rule(pick=picks)
    def press(self, pick):
        self.walk.press(pick)

    @rule(pick=picks)
    def press_next(self, pick):
        self.walk.press(pick)

    @rule(pick=picks, stale=st.booleans())
    def press_any(self, pick, stale):
        self.walk.press(pick, stale=stale, local=False)

    @rule(text=texts)
    def type_text(self, text):
        self.walk.type(text)

    @rule(place=st.sampled_from(PLACES))
    def share_location(self, place):
        self.walk.location(*place)

    @rule(command=st.sampled_from(COMMANDS))
    def command(self, command):
        self.walk.command(*command)

    @rule()
    def quick_exit(self):
        self.walk.quick_exit()

    @precondition(lambda self: self.walk.exited)
    @rule(lang=st.sampled_from(LANGS))
    def come_back(self, lang):
        self.walk.start(lang)

    @rule(pick=picks, how=st.integers(0, 2))
    def follow_up(self, pick, how):
        self.walk.follow_up(pick, how)

    @rule(action=st.sampled_from(FOCAL))
    def focal_point(self, action):
        self.walk.focal(action)

    def teardown(self):
        self.walk.close()


def machine_for(stack: Stack, channel: str) -> type[WalkMachine]:
    return type(f"Walk_{channel}", (WalkMachine,), {"stack": stack, "channel": channel})
