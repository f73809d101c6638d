"""Inbound events fed to :func:`dialogs.handle`.

What a person does (``Text``, ``Choice``, ``Location``, ``Contact``, ``Media``, ``Command``)
and what the caller reports back after running a command (``ReportSubmitted``, ``CaseFound``,
``CaseNotFound``, ``RateLimited``, ``PlaceCandidates``, ``Done``, ``Failed``).
Channel adapters drop names and usernames before building these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dialogs._types import Serialisable


class Event(Serialisable):
    __slots__ = ()
    _registry: dict[str, type] = {}

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        Event._registry[cls.__name__] = cls


# --- what the person does -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Text(Event):
    """Typed text (any length: the engine bounds it)."""

    text: str


@dataclass(frozen=True, slots=True)
class Choice(Event):
    """A button press: ``data`` is the option's data; ``message_ref`` the message it sat on."""

    data: str
    message_ref: str | None = None


@dataclass(frozen=True, slots=True)
class Location(Event):
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Contact(Event):
    """A shared phone contact (Telegram request_contact)."""

    phone: str


MEDIA_KINDS = ("voice", "photo", "document", "video")


@dataclass(frozen=True, slots=True)
class Media(Event):
    """Voice, photo, document or video, as an opaque reference (e.g. a sealed file id)."""

    kind: str
    ref: str


@dataclass(frozen=True, slots=True)
class Command(Event):
    """A slash command: ``start`` (arg: language hint or receipt code), ``help``, ``exit``,
    ``language``, ``delete``, ``code`` (arg: receipt code)."""

    name: str
    arg: str | None = None


# --- what happens to the person's case, unasked ------------------------------------------


NEWS_KINDS = ("reply", "acked", "climbed", "after_hours", "closed")


@dataclass(frozen=True, slots=True)
class CaseNews(Event):
    """Something happened to the person's case (fed by the caller, never typed): ``kind``
    one of :data:`NEWS_KINDS`. ``reply``: a focal point's ``text``; ``after_hours``: the
    report went, outside office hours, to the role ``who``, on duty now (``when`` None) or
    from ``when`` (ISO-8601). The engine decides whether the chat shows it (not after a quick
    exit) and ties the chat to the case for replies in place."""

    case_ref: str
    kind: str
    text: str | None = None
    who: str | None = None
    when: str | None = None


# --- results of commands, fed back by the caller -------------------------------------


@dataclass(frozen=True, slots=True)
class ReportSubmitted(Event):
    """Answer to ``SubmitReport``: the receipt (shown once, never stored) and the case ref.
    ``to_desk``: no place was given, so the report went to the province desk."""

    receipt_code: str
    case_ref: str
    to_desk: bool = False


@dataclass(frozen=True, slots=True)
class CaseFound(Event):
    """Answer to ``LookupReceipt``. ``messages``: ``({"at": ISO-8601, "text": str}, ...)``
    from the focal point, oldest first. ``status``: new|notified|acknowledged|in_progress|
    closed|transferred|withdrawn."""

    case_ref: str
    status: str
    messages: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class CaseNotFound(Event):
    pass


@dataclass(frozen=True, slots=True)
class RateLimited(Event):
    retry_after_s: int | None = None


@dataclass(frozen=True, slots=True)
class PlaceCandidates(Event):
    """Answer to ``SearchPlace``/``NearestPlaces``:
    ``({"code": str, "name": str, "province_name": str}, ...)`` best first (may be empty)."""

    candidates: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class Done(Event):
    """A command without a payload result succeeded (``name`` = the command's class name)."""

    name: str


@dataclass(frozen=True, slots=True)
class Failed(Event):
    """A command failed (``name`` = the command's class name); the engine offers a retry.
    ``reason`` ``"unheld"``: a follow-up no one holds the case to read (no retry helps)."""

    name: str
    reason: str | None = None


RESULT_EVENTS = (
    ReportSubmitted,
    CaseFound,
    CaseNotFound,
    RateLimited,
    PlaceCandidates,
    Done,
    Failed,
)
