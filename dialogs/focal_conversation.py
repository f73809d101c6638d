"""The focal point's conversation in chat (pure): what a button means, what a typed text
means in the focal point's mode, and what to show next.

A focal point's mode is what it began with a button: a reply, a question, a transfer (the
next text it types is that) or a closing (the services it ticks so far). :func:`press` and
:func:`typed` turn (mode, event) into a :class:`Step`: the typed operation
(:mod:`dialogs.casework_ops`) the casework service authorizes and applies, the mode after
it, and what to show. The service keeps the mode; it saves the new one only when the
operation is allowed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dialogs import actions as A
from dialogs import casework_ops as O
from dialogs import focal_texts as T
from dialogs import risk as R

WEB_CODE_COMMAND = "/web"  # in a bound chat: send me a web sign-in code

_BEGUN = {T.REPLY: O.REPLY, T.ASK: O.ASK, T.TRANSFER: O.TRANSFER}
_PROMPT = {
    O.REPLY: "focal.reply.prompt",
    O.ASK: "focal.ask.prompt",
    O.TRANSFER: "focal.transfer.prompt",
}


@dataclass(frozen=True)
class Mode:
    """What the focal point began: ``kind`` one of :data:`dialogs.casework_ops.BEGUN`, or
    empty; ``services`` ticked so far while closing; ``answers`` of the risk check so far,
    in the order of its questions."""

    kind: str = ""
    referral_id: str = ""
    services: tuple[str, ...] = ()
    answers: tuple[str, ...] = ()

    @classmethod
    def of(cls, state: Any) -> Mode:
        """From its stored form (the dict kept since before this module)."""
        if not isinstance(state, dict) or not state.get("mode"):
            return cls()
        return cls(
            str(state["mode"]),
            str(state.get("ref") or ""),
            tuple(state.get("sv") or ()),
            tuple(state.get("ra") or ()),
        )

    def stored(self) -> dict[str, Any]:
        """Its stored form: ``{"mode", "ref"[, "sv"]}``, or ``{}``."""
        if not self.kind:
            return {}
        state: dict[str, Any] = {"mode": self.kind, "ref": self.referral_id}
        if self.kind == O.CLOSE:
            state["sv"] = list(self.services)
        if self.kind == O.RISK:
            state["ra"] = list(self.answers)
        return state


IDLE = Mode()


@dataclass(frozen=True)
class Step:
    """What an event means: ``op`` for the service (None: nothing to do); ``mode`` the
    mode once it is applied (None: unchanged); ``prompt`` a message id told with the
    case's reference once applied; ``show`` a message shown once applied; ``refused``
    the message id told when the operation is refused, or nothing is to be done."""

    op: O.Operation | None
    mode: Mode | None = None
    prompt: str | None = None
    show: A.Action | None = None
    refused: str = "focal.forbidden"


def press(mode: Mode, value: str, lang: str) -> Step | None:
    """A focal button's meaning, or None when the data is not a focal button's (or names
    no operation)."""
    parsed = T.parse_data(value)
    if parsed is None:
        return None
    action, target, extra = parsed
    if action == T.AGENCY:
        return _agency(target, extra)
    if action == T.ACK:
        return Step(O.Acknowledge(target))
    if action in _BEGUN:
        kind = _BEGUN[action]
        return Step(O.Begin(target, kind), Mode(kind, target), prompt=_PROMPT[kind])
    if action == T.CLOSE:
        return Step(
            O.Begin(target, O.CLOSE),
            Mode(O.CLOSE, target),
            show=T.close_options(lang, target, []),
        )
    if action == T.RISK:
        return Step(
            O.Begin(target, O.RISK), Mode(O.RISK, target), show=T.risk_question(lang, target, 0)
        )
    if action == T.RISK_ANSWER:
        return _risk_answer(mode, target, extra, lang)
    chosen = list(mode.services) if mode.referral_id == target else []
    if action == "sv":
        if extra in T.SERVICES:
            chosen = [s for s in chosen if s != extra] if extra in chosen else [*chosen, extra]
        edit = T.close_options(lang, target, chosen)
        return Step(
            O.Begin(target, O.CLOSE),
            Mode(O.CLOSE, target, tuple(chosen)),
            show=A.Edit(edit.tag or "", edit.text, edit.options),
        )
    if action in ("done", "out"):
        outcome = (
            extra
            if action == "out" and extra in T.OUTCOMES
            else ("served" if chosen else "no_service")
        )
        return Step(O.Close(target, tuple(chosen), outcome), IDLE)
    return None


def _risk_answer(mode: Mode, referral_id: str, extra: str, lang: str) -> Step | None:
    """One answer of the risk check: the next question, or the check recorded once all are
    answered. An answer to a question not asked now (an old message) means nothing."""
    code, _, answer = extra.partition(".")
    asked = len(mode.answers) if mode.kind == O.RISK and mode.referral_id == referral_id else -1
    if not 0 <= asked < len(R.CODES) or code != R.CODES[asked] or answer not in R.ANSWERS:
        return None
    answers = (*mode.answers, answer)
    if len(answers) == len(R.CODES):
        return Step(O.CheckRisk(referral_id, tuple(zip(R.CODES, answers, strict=True))), IDLE)
    return Step(
        O.Begin(referral_id, O.RISK),
        Mode(O.RISK, referral_id, answers=answers),
        show=T.risk_question(lang, referral_id, len(answers)),
    )


def _agency(agency_referral_id: str, what: str) -> Step | None:
    """An agency's buttons: accept, decline (then a reason), a service given."""
    if what == T.ACCEPT:
        return Step(O.Accept(agency_referral_id))
    if what == T.DECLINE:
        return Step(O.Decline(agency_referral_id))
    if what.startswith("dr.") and what[3:] in T.DECLINE_REASONS:
        return Step(O.Decline(agency_referral_id, what[3:]))
    if what.startswith("sv.") and what[3:] in T.SERVICES:
        return Step(O.RecordService(agency_referral_id, what[3:]))
    return None


def typed(mode: Mode, body: str, *, chat: bool = True) -> Step:
    """A text a focal point typed: in a chat, the web-code command; else what its mode
    awaits (a reply, a question, a transfer target). Nothing awaited: the inbox is
    empty to it."""
    if chat and body.strip().lower() == WEB_CODE_COMMAND:
        return Step(O.SendWebCode())
    empty = "focal.inbox.empty"
    if mode.kind == O.REPLY:
        return Step(O.Reply(mode.referral_id, body), IDLE, refused=empty)
    if mode.kind == O.ASK:
        return Step(O.Ask(mode.referral_id, body), IDLE, refused=empty)
    if mode.kind == O.TRANSFER:
        return Step(O.Transfer(mode.referral_id, body), refused=empty)
    if mode.kind in (O.CLOSE, O.RISK):  # these await a button, not a text
        return Step(O.Begin(mode.referral_id, O.CLOSE), refused=empty)
    return Step(None, refused=empty)
