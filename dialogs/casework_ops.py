"""The typed operations of casework (pure): what a focal point, an agency or a province
desk asks the casework service (:mod:`bot.casework.service`) to do to a case.

Every channel builds these: the Telegram and Zalo desks through the focal point's
conversation (:mod:`dialogs.focal_conversation`), the web inbox from its form. The service
identifies the actor, authorizes the operation by the one rule (:mod:`routing.access`),
applies it and audits it. Nothing here touches storage.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# What a focal point begins with a button before typing or choosing what follows.
REPLY, ASK, TRANSFER, CLOSE, RISK = "rep", "ask", "tr", "close", "risk"
BEGUN = (REPLY, ASK, TRANSFER, CLOSE, RISK)


@dataclass(frozen=True)
class Acknowledge:
    """The holder (or anyone who may act on the case) takes it: the climb stops."""

    referral_id: str


@dataclass(frozen=True)
class Begin:
    """A reply, question, transfer, closing or risk check begun (or its choices changed): nothing
    changes on the case, but only someone who may act on it may begin."""

    referral_id: str
    kind: str  # one of BEGUN


@dataclass(frozen=True)
class Reply:
    """A message relayed to the survivor under the case's reference."""

    referral_id: str
    text: str


@dataclass(frozen=True)
class Ask:
    """A question relayed to the survivor (prefixed as one)."""

    referral_id: str
    text: str


@dataclass(frozen=True)
class Transfer:
    """The case handed to the focal point of a commune: the one picked from a list
    (``commune_code``), else the one ``query`` names."""

    referral_id: str
    query: str
    commune_code: str | None = None


@dataclass(frozen=True)
class Close:
    """The case closed with the services given and an outcome (``served``,
    ``no_service`` or one of :data:`dialogs.focal_texts.OUTCOMES`)."""

    referral_id: str
    services: tuple[str, ...]
    outcome: str


@dataclass(frozen=True)
class Reopen:
    """A closed case reopened to its last holder."""

    referral_id: str


@dataclass(frozen=True)
class Note:
    """An internal note (sealed), never relayed to the reporter."""

    referral_id: str
    text: str


@dataclass(frozen=True)
class AddTask:
    """A follow-up task for the focal point who sets it, reminded once due."""

    referral_id: str
    text: str
    due_at: datetime


@dataclass(frozen=True)
class FinishTask:
    """A task marked done."""

    task_id: str


@dataclass(frozen=True)
class HandCase:
    """A province desk takes over a case (``target_id`` its own id) or gives it away."""

    case_id: str
    target_id: str


@dataclass(frozen=True)
class ReferToAgency:
    """The case held through ``referral_id`` referred to an agency."""

    referral_id: str
    agency_id: str


@dataclass(frozen=True)
class Accept:
    """An agency accepts its referral."""

    agency_referral_id: str


@dataclass(frozen=True)
class Decline:
    """An agency declines its referral; without a reason it is asked for one."""

    agency_referral_id: str
    reason: str | None = None


@dataclass(frozen=True)
class RecordService:
    """An agency records the service it gave (today's date: the operation's time)."""

    agency_referral_id: str
    service: str


@dataclass(frozen=True)
class PlaceAtShelter:
    """The survivor of the case placed at a shelter of its province."""

    referral_id: str
    shelter_id: str


@dataclass(frozen=True)
class EndStay:
    """The case's open shelter stay ended."""

    referral_id: str


@dataclass(frozen=True)
class CheckRisk:
    """The risk check's answers (:mod:`dialogs.risk`), as (question, answer) pairs."""

    referral_id: str
    answers: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class SavePlan:
    """The safety plan replaced, as (field, text) pairs."""

    referral_id: str
    plan: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class SendWebCode:
    """A bound chat asks for a one-time web sign-in code."""


CaseOperation = (
    Acknowledge | Begin | Reply | Ask | Transfer | Close | Reopen | Note | AddTask
    | PlaceAtShelter | EndStay | CheckRisk | SavePlan
)  # fmt: skip
AgencyOperation = Accept | Decline | RecordService
Operation = CaseOperation | FinishTask | HandCase | ReferToAgency | AgencyOperation | SendWebCode
