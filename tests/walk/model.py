"""The walker: one person doing anything a person can do, on any channel, with the
hotline's promises checked after every step.

:class:`Walk` holds one person (a :mod:`tests.walk.channels` adapter) and their history.
Its actions are what a person (or, for closing, their focal point) does; after each one
:meth:`Walk.check` asserts the invariants of issue #17:

1. no 5xx and no log record at ERROR or above, no call a fake server refused;
2. the person always has a way on: a choice to make, a question that takes typed text,
   or an end (quick exit);
3. every report sent is exactly one case with one receipt (the code the person was shown
   finds it), and, with consent, a referral to someone on duty or the province desk whose
   chat received the card — for an urgent alert within its SLA;
4. every message the person is told was passed on reached an open referral's focal point.

Drivers choose the actions: Hypothesis' state machine (tests/walk/test_walk.py) and a
seeded random walk (bench/walk_bench.py). A failed check raises :class:`WalkFailed` with
the steps so far.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import timedelta

from bot.web.focal import OPEN
from dialogs import focal_texts
from dialogs.flows import STEPS
from dialogs.i18n import LANGUAGES, translator
from routing.duty import is_on_duty
from tests.walk import oracle
from tests.walk.channels import Channel, Message, Option, ServerError, make_channel
from tests.walk.stack import Stack

CODE = re.compile(r"(?<!\d)(\d{4}[ -]?){3}\d{4}(?!\d)")
GLOBAL_CODES = {"x", "sos", "lang"}
TEXT_STEPS = {"place", "phone", "account", "code"}  # kinds that take typed text
SUBMIT_FROM = {"sv.sum", "wt.sum", "dg.who"}
# follow-up screens that ask for her words (the engine sends those to the case she opened)
FOLLOW_UP_TEXT = {k for k, step in STEPS.items() if k.startswith("fu.") and step.kind == "account"}


def _all_languages(msgid: str) -> set[str]:
    return {translator(lang).gettext(msgid) for lang in LANGUAGES}


GLOBAL_LABELS = set().union(*(_all_languages(m) for m in ("opt.exit", "opt.sos", "opt.lang")))
RELAYED = _all_languages("fu.relayed")
ADDED = _all_languages("fu.added")


class WalkFailed(AssertionError):
    pass


STATS: dict[str, int] = {}  # what the walks exercised, for the bench's summary


def _count(what: str, n: int = 1) -> None:
    STATS[what] = STATS.get(what, 0) + n


def _is_local(option: Option) -> bool:
    if option.code is not None:
        return option.code not in GLOBAL_CODES
    return option.label not in GLOBAL_LABELS


@dataclass
class Walk:
    stack: Stack
    channel_name: str
    steps: list[str] = field(default_factory=list)
    receipts: list[str] = field(default_factory=list)  # codes the person was shown
    exited: bool = False
    mine: list[str] = field(default_factory=list)  # the cases this walk created, in order

    def __post_init__(self) -> None:
        self.person: Channel = make_channel(self.stack, self.channel_name)
        self.mark = self.stack.errors.mark()
        self.telegram_calls = self.stack.telegram.call_count()
        self.zalo_calls = self.stack.zalo.call_count()
        self.started = False
        self.state: dict = {}
        self.before: dict = {}
        self.focal_chats = set(self.stack.focal_users.values())
        self.to_focal: list[tuple[int, str]] = []

    # -- what the person sees --------------------------------------------------------------

    def seen(self) -> list[Message]:
        return self.person.seen()

    def offered(self) -> list[tuple[Message, Option]]:
        """The options of the newest message that has any."""
        for message in reversed(self.seen()):
            if message.options:
                return [(message, option) for option in message.options]
        return []

    def all_options(self) -> list[tuple[Message, Option]]:
        """Every option on screen, old messages' buttons too."""
        return [(m, o) for m in self.seen() for o in m.options]

    @property
    def sla(self) -> timedelta:
        return timedelta(minutes=self.stack.live.settings.sla_immediate_minutes)

    # -- actions ----------------------------------------------------------------------------

    def start(self, lang: str | None = None) -> None:
        self.started = True
        self.exited = False
        self._do(f"start({lang!r})", lambda: self.person.start(lang))

    def press(self, pick: int, stale: bool = False, local: bool = True) -> None:
        """Press option ``pick`` (modulo) of the current prompt (``local``: of its own
        options, not quick exit, emergency numbers or language), or of any message."""
        choices = self.all_options() if stale else self.offered()
        if local and any(_is_local(o) for _m, o in choices):
            choices = [(m, o) for m, o in choices if _is_local(o)]
        if not choices:
            return self.type(str(pick % 5))
        message, option = choices[pick % len(choices)]
        what = f"press({option.code or option.key!r}: {option.label[:30]!r}{', stale' if stale else ''})"
        self._do(what, lambda: self.person.press(message, option), pressed=option)

    def type(self, text: str) -> None:
        self._do(
            f"type({text[:60]!r}{'…' if len(text) > 60 else ''})", lambda: self.person.type(text)
        )

    def location(self, lat: float, lon: float) -> None:
        if not self.person.can_share_location:
            return self.type(f"{lat:.4f}, {lon:.4f}")
        self._do(f"location({lat}, {lon})", lambda: self.person.location(lat, lon))

    def command(self, name: str, arg: str | None = None) -> None:
        self._do(f"command({name!r}, {arg!r})", lambda: self.person.command(name, arg))

    def quick_exit(self) -> None:
        self._do("quick_exit()", self.person.quick_exit)
        self.exited = True

    def follow_up(self, pick: int, how: int) -> None:
        """Come back with a receipt code seen earlier: typed, or with /code."""
        if not self.receipts:
            return self.command("code")
        code = self.receipts[pick % len(self.receipts)]
        if how % 3 == 0:
            self.command("code", code)
        elif how % 3 == 1:
            self.command("start", code)
        else:
            self.type(code)

    def focal(self, action: str) -> None:
        """The focal point of the person's latest open case acknowledges, replies or closes
        it, with the buttons on the card in their Telegram chat."""
        views = self.stack.run(oracle.cases_by_id(self.stack.store, self.mine))
        targets = [
            (v, r)
            for v in views
            for r in v.referrals
            if r[3] in OPEN and r[1] in self.stack.focal_users
        ]
        if not targets:
            return
        view, (referral_id, focal_id, _role, _status) = targets[-1]
        user = self.stack.focal_users[focal_id]
        fake = self.stack.telegram

        def press(data: str) -> bool:
            for message in reversed(fake.sent_messages(user)):
                if any(b.get("callback_data") == data for b in message.buttons):
                    from tests.fakes import updates as U

                    uid = fake.inject_update(U.callback_update(user, data, message.message_id))
                    self.stack.wait_telegram_handled(uid)
                    self.stack.wait_sent()
                    return True
            return False

        def act() -> None:
            from tests.fakes import updates as U

            if action == "ack":
                press(focal_texts.data(focal_texts.ACK, referral_id))
            elif action == "reply":
                if press(focal_texts.data(focal_texts.REPLY, referral_id)):
                    uid = fake.inject_update(
                        U.text_update(user, "Chị ơi, em ở đây. Gọi 111 nếu cần.")
                    )
                    self.stack.wait_telegram_handled(uid)
                    self.stack.wait_sent()
            elif action == "close":
                if press(focal_texts.data(focal_texts.CLOSE, referral_id)):
                    press(focal_texts.data("out", referral_id, "declined"))

        self._do(f"focal({action!r}, case {view.ref})", act, own=False)

    # -- running one step and checking it --------------------------------------------------

    def _do(self, what: str, run, *, pressed: Option | None = None, own: bool = True) -> None:
        self.steps.append(what)
        before_texts = [m.text for m in self.seen()]
        before_state = self.before = self.state
        cases_before = self.stack.run(oracle.case_ids(self.stack.store))
        wall = time.monotonic()
        try:
            run()
        except (ServerError, TimeoutError) as exc:
            if isinstance(exc, ServerError):
                self.stack.errors.wait_beyond(self.mark, 5.0)
            logged = " | ".join(self.stack.errors.since(self.mark))[:2000]
            self.fail(f"{type(exc).__name__}: {exc}" + (f"; logged: {logged}" if logged else ""))
        self.check(before_state, before_texts, cases_before, time.monotonic() - wall, own)

    def fail(self, why: str) -> None:
        steps = "\n".join(f"  {n:3d}. {s}" for n, s in enumerate(self.steps, 1))
        error = WalkFailed(f"[{self.channel_name}] {why}\nsteps:\n{steps}")
        raise error

    def check(
        self,
        before: dict,
        before_texts: list[str],
        cases_before: frozenset[str],
        elapsed_s: float,
        own: bool,
    ) -> None:
        stack = self.stack
        # 1. no error logged, no call refused by a fake server
        errors = stack.errors.since(self.mark)
        self.mark = stack.errors.mark()
        if errors:
            self.fail("logged: " + " | ".join(errors)[:2000])
        tg_calls = stack.telegram.calls_from(self.telegram_calls)
        zalo_calls = stack.zalo.calls_from(self.zalo_calls)
        self.telegram_calls += len(tg_calls)
        self.zalo_calls += len(zalo_calls)
        refused = [
            f"{c.method}->{c.status}"
            for c in [*tg_calls, *zalo_calls]
            if (c.status or 0) >= 400
            and c.method.lower() not in ("deletemessage", "deletemessages", "getupdates")
        ]
        if refused:
            self.fail(f"a fake server refused: {refused}")
        # what focal points' chats received in this step
        self.to_focal = [
            (c.chat_id, str(c.params.get("text") or ""))
            for c in tg_calls
            if c.method in ("sendMessage", "editMessageText") and c.chat_id in self.focal_chats
        ]
        if not self.started:
            return
        state = stack.run(oracle.engine_state(stack.store, self.channel_name, self.person.identity))
        self.state = state
        seen = self.seen()
        old = set(before_texts)
        new_texts = [m.text for m in seen if m.text not in old]

        # 2. a way on
        self._check_way_on(state, seen)

        # 3. reports: cases of this step
        shown = [c.group(0) for t in new_texts for c in CODE.finditer(t)]
        for code in shown:
            if code not in self.receipts:
                self.receipts.append(code)
        views = stack.run(oracle.cases_not_in(stack.store, cases_before))
        mine = views  # walks run one at a time: what this step created is this person's
        self.mine.extend(view.id for view in views)
        if len(mine) > 1:
            self.fail(f"one step created {len(mine)} cases: {[v.ref for v in mine]}")
        if before.get("s") in SUBMIT_FROM and state.get("s") == "receipt" and not mine:
            self.fail("the person reached the receipt but no case was created")
        _count("steps")
        for view in mine:
            _count(f"cases ({view.urgency})")
            self._check_case(view, shown, elapsed_s)

        # 4. "passed on" is seen by a focal point
        told = [t for t in new_texts if any(r in t for r in RELAYED)]
        if told:
            _count("told passed on")
            # On a follow-up screen that asks for her words: the case she opened with her
            # receipt. On any screen of buttons (a follow-up's too) a plain message goes to
            # the case her chat is tied to by a relayed reply (the engine's _in_place),
            # whatever case an earlier follow-up left in her state.
            if str(before.get("s") or "") in FOLLOW_UP_TEXT:
                held = before.get("case") or state.get("case")
            else:
                held = before.get("tie") or state.get("tie") or before.get("case")
            ref = (held or {}).get("ref")
            self._check_relayed(ref, cases_before)

    def _check_way_on(self, state: dict, seen: list[Message]) -> None:
        if self.exited or state.get("s") in ("exited",):
            return
        step = state.get("s") or ""
        kind = STEPS[step].kind if step in STEPS else None
        if kind in TEXT_STEPS or state.get("w"):
            return
        # the current prompt is among the newest messages (a focal point's reply or a
        # status line, with the global options only, may have come after it)
        for message in seen[-3:]:
            if any(_is_local(o) for o in message.options):
                return
        self.fail(
            f"no way on: step {step!r}, last message {seen[-1].text[:200] if seen else None!r}"
        )

    def _check_case(self, view: oracle.CaseView, shown: list[str], elapsed_s: float) -> None:
        stack = self.stack
        if view.receipts != 1:
            self.fail(f"case {view.ref} has {view.receipts} receipts")
        if len(shown) != 1:
            self.fail(f"case {view.ref} created, the person was shown {len(shown)} receipt codes")
        found = stack.run(oracle.case_of_receipt(stack.store, shown[0]))
        if found != view.id:
            self.fail(f"the receipt shown does not find case {view.ref}")
        if not view.consent_referral:
            return
        if not view.referrals:
            self.fail(f"case {view.ref} ({view.urgency}) has consent but no referral")
        _rid, focal_id, role, _status = view.referrals[0]
        directory = stack.runtime.current_directory()
        focal = directory.focal_point(focal_id) if hasattr(directory, "focal_point") else None
        if role != "province_desk" and focal is not None:
            if not is_on_duty(focal.duty_hours, view.created_at):
                self.fail(f"case {view.ref} referred to {focal_id}, off duty and not a desk")
        user = stack.focal_users.get(focal_id)
        if not any(chat == user and view.ref in text for chat, text in self.to_focal):
            self.fail(f"case {view.ref} ({view.urgency}): no card reached {focal_id}")
        if view.urgency == "immediate" and elapsed_s > self.sla.total_seconds():
            self.fail(f"urgent case {view.ref}: the card took {elapsed_s:.0f}s")

    def _check_relayed(self, ref: str | None, cases_before: frozenset[str]) -> None:
        stack = self.stack
        view = stack.run(oracle.case_by_ref(stack.store, ref)) if ref else None
        if view is None:
            self.fail(f"told 'passed on' about case {ref!r}, which does not exist")
        open_ = [r for r in view.referrals if r[3] in OPEN]
        if not open_:
            self.fail(
                f"told 'passed on' on case {view.ref} ({view.status}): no open referral, "
                "no focal point sees it"
            )
        users = {stack.focal_users.get(r[1]) for r in open_}
        if not any(chat in users and view.ref in text for chat, text in self.to_focal):
            self.fail(f"told 'passed on' on case {view.ref}: no focal point's chat got it")

    def close(self) -> None:
        close = getattr(self.person, "close", None)
        if close is not None:
            close()
