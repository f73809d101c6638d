"""The focal point's conversation (pure): what a button or a typed text means in a mode,
and the typed operation it asks the casework service for."""

from __future__ import annotations

from dialogs import actions as A
from dialogs import casework_ops as O
from dialogs import focal_conversation as C
from dialogs import focal_texts as T

R = "ab12"


def test_buttons_name_typed_operations() -> None:
    assert C.press(C.IDLE, T.data(T.ACK, R), "vi") == C.Step(O.Acknowledge(R))
    step = C.press(C.IDLE, T.data(T.REPLY, R), "vi")
    assert step.op == O.Begin(R, O.REPLY) and step.mode == C.Mode(O.REPLY, R)
    assert step.prompt == "focal.reply.prompt"
    assert C.press(C.IDLE, T.data(T.TRANSFER, R), "vi").prompt == "focal.transfer.prompt"
    assert C.press(C.IDLE, "not ours", "vi") is None
    assert C.press(C.IDLE, T.data("zz", R), "vi") is None


def test_closing_ticks_services_then_closes_with_them() -> None:
    step = C.press(C.IDLE, T.data(T.CLOSE, R), "vi")
    assert step.op == O.Begin(R, O.CLOSE) and isinstance(step.show, A.Send)
    mode = step.mode
    for service in ("legal", "medical", "legal", "bogus"):
        step = C.press(mode, T.data("sv", R, service), "vi")
        assert isinstance(step.show, A.Edit)
        mode = step.mode
    assert mode.services == ("medical",)  # legal ticked twice: off again
    assert C.press(mode, T.data("done", R), "vi").op == O.Close(R, ("medical",), "served")
    assert C.press(C.IDLE, T.data("done", R), "vi").op == O.Close(R, (), "no_service")
    declined = C.press(mode, T.data("out", R, "declined"), "vi")
    assert declined.op == O.Close(R, ("medical",), "declined") and declined.mode == C.IDLE
    # services ticked on another case do not close this one
    assert C.press(mode, T.data("done", "other"), "vi").op == O.Close("other", (), "no_service")


def test_texts_are_what_the_mode_awaits() -> None:
    assert C.typed(C.Mode(O.REPLY, R), "hi").op == O.Reply(R, "hi")
    assert C.typed(C.Mode(O.ASK, R), "safe?").op == O.Ask(R, "safe?")
    transfer = C.typed(C.Mode(O.TRANSFER, R), "Tân Lập")
    assert transfer.op == O.Transfer(R, "Tân Lập") and transfer.mode is None  # kept on failure
    idle = C.typed(C.IDLE, "hello")
    assert idle.op is None and idle.refused == "focal.inbox.empty"
    assert C.typed(C.IDLE, " /WEB ").op == O.SendWebCode()
    assert C.typed(C.Mode(O.REPLY, R), "/web", chat=False).op == O.Reply(R, "/web")


def test_agency_buttons() -> None:
    data = lambda what: T.data(T.AGENCY, R, what)  # noqa: E731
    assert C.press(C.IDLE, data(T.ACCEPT), "vi").op == O.Accept(R)
    assert C.press(C.IDLE, data(T.DECLINE), "vi").op == O.Decline(R)
    assert C.press(C.IDLE, data("dr.no_capacity"), "vi").op == O.Decline(R, "no_capacity")
    assert C.press(C.IDLE, data("sv.legal"), "vi").op == O.RecordService(R, "legal")
    assert C.press(C.IDLE, data("dr.whatever"), "vi") is None


def test_mode_keeps_its_stored_form() -> None:
    stored = {"mode": "close", "ref": R, "sv": ["legal"]}
    assert C.Mode.of(stored).stored() == stored
    assert C.Mode.of({"mode": "rep", "ref": R}).stored() == {"mode": "rep", "ref": R}
    assert C.Mode.of({}) == C.IDLE and C.IDLE.stored() == {}
    assert C.Mode.of(None) == C.IDLE
