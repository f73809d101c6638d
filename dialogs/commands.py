"""Commands returned by :func:`dialogs.handle` for the caller to run (I/O, randomness).

The caller feeds results back as events (see :mod:`dialogs.events`):

============== =====================================================================
SubmitReport    -> ReportSubmitted(receipt_code, case_ref) | Failed("SubmitReport")
LookupReceipt   -> CaseFound(case_ref, status, messages) | CaseNotFound() | RateLimited()
SearchPlace     -> PlaceCandidates(candidates)
NearestPlaces   -> PlaceCandidates(candidates)
AddToReport     -> Done("AddToReport") | Failed("AddToReport")
RelayToFocal    -> Done("RelayToFocal") | Failed(...)
WithdrawCase    -> (no answer needed; sent together with DeleteCase)
DeleteCase      -> Done("DeleteCase") | Failed(...)
StopContact     -> Done("StopContact") | Failed(...)
DeleteDraft     -> (no answer) shred the sealed draft and reset the stored state
============== =====================================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dialogs._types import Serialisable


class Command(Serialisable):
    __slots__ = ()
    _registry: dict[str, type] = {}

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        Command._registry[cls.__name__] = cls


@dataclass(frozen=True, slots=True)
class SubmitReport(Command):
    """``report``: see ``dialogs.report.build_report`` for the exact shape."""

    report: dict[str, Any]


@dataclass(frozen=True, slots=True)
class LookupReceipt(Command):
    """``code``: digits only (spaces and dashes removed), 16 or more."""

    code: str


@dataclass(frozen=True, slots=True)
class SearchPlace(Command):
    query: str
    lang: str


@dataclass(frozen=True, slots=True)
class NearestPlaces(Command):
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class AddToReport(Command):
    case_ref: str
    texts: tuple[str, ...] = ()
    media: tuple[dict[str, str], ...] = ()  # ({"kind": ..., "ref": ...}, ...)


@dataclass(frozen=True, slots=True)
class RelayToFocal(Command):
    case_ref: str
    texts: tuple[str, ...] = ()
    media: tuple[dict[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class WithdrawCase(Command):
    case_ref: str


@dataclass(frozen=True, slots=True)
class DeleteCase(Command):
    case_ref: str


@dataclass(frozen=True, slots=True)
class StopContact(Command):
    case_ref: str


@dataclass(frozen=True, slots=True)
class DeleteDraft(Command):
    pass
