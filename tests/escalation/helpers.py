"""Fixture data and test doubles for the escalation tests (and the bench).

A commune with one focal point per role, a province desk, cases with referrals. Bulk
seeding writes rows with Core inserts (one shared data key, no audit): fast enough for
thousands of referrals.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.casework import CaseworkService
from bot.telegram.render import TelegramRenderer
from routing.ladder import LadderConfig
from storage.cases import NewCase, create_case
from storage.conversations import conversation_key
from storage.escalation import EscalationEvent, schedule_referral
from storage.models import Case, EscalationDeadline, FocalPoint, Referral
from storage.records import new_data_key, seal_into

PROVINCE = "66"
COMMUNE = "24121"
OTHER_COMMUNE = "24124"

ROLES = ("primary", "backup", "commune_leadership", "police_desk", "province_desk")


@dataclass
class Recorded:
    kind: str
    case_ref: str
    level: int
    previous_level: int
    recipients: tuple[str, ...]
    on_duty: bool
    rung: str


@dataclass
class RecordingNotifier:
    """Keeps every event it is given (committed or not: tests read it after commits)."""

    events: list[Recorded] = field(default_factory=list)

    async def __call__(self, session: AsyncSession, events: list[EscalationEvent]) -> None:
        self.events.extend(
            Recorded(
                event.kind,
                event.case.ref,
                event.level,
                event.previous_level,
                tuple(p.id for p in event.recipients),
                event.on_duty,
                event.rung,
            )
            for event in events
        )

    def take(self) -> list[Recorded]:
        out, self.events = self.events, []
        return out


def production_notifier(store: Any) -> Any:
    """The notifier ``hotline run`` uses (``CaseworkService.notify_escalations``), Telegram only."""
    from bot.service import Hotline

    renderers = {"telegram": TelegramRenderer()}
    desk = CaseworkService(store, renderers, directory=lambda: None)
    desk.deliver = Hotline(store, renderers).deliver  # as bot.runtime wires it
    return desk.notify_escalations


async def add_focal_point(
    session: AsyncSession,
    vault: Any,
    fp_id: str,
    role: str,
    *,
    commune: str | None = COMMUNE,
    province: str = PROVINCE,
    hours: str = "24/7",
    chat_id: int | None = None,
    active: bool = True,
) -> FocalPoint:
    key_id, aead = await new_data_key(session, vault)
    fp = FocalPoint(
        id=fp_id,
        data_key_id=key_id,
        place_scheme="2025",
        province_code=province,
        commune_code=commune,
        role=role,
        duty_hours=hours,
        active=active,
    )
    # bound as /focal CODE binds a chat account (bot.casework.CaseworkService.redeem)
    seal_into(
        vault,
        aead,
        fp,
        display_name=f"name of {fp_id}",
        chat_address=(
            {"channel": "telegram", "user": str(chat_id), "chat": chat_id} if chat_id else None
        ),
    )
    if chat_id:
        fp.identity_key = conversation_key(vault, "telegram", str(chat_id))
    session.add(fp)
    await session.flush()
    return fp


async def add_ladder(
    session: AsyncSession,
    vault: Any,
    *,
    commune: str = COMMUNE,
    province: str = PROVINCE,
    hours: dict[str, str] | None = None,
    prefix: str = "",
    chat_base: int = 1000,
) -> dict[str, str]:
    """One focal point per role (the province desk without a commune); role -> id."""
    hours = hours or {}
    ids = {}
    for n, role in enumerate(ROLES):
        fp_id = f"{prefix}{role}"
        await add_focal_point(
            session,
            vault,
            fp_id,
            role,
            commune=None if role == "province_desk" else commune,
            province=province,
            hours=hours.get(role, "24/7"),
            chat_id=chat_base + n,
        )
        ids[role] = fp_id
    return ids


async def add_referral(
    session: AsyncSession,
    vault: Any,
    *,
    now: datetime,
    focal_point_id: str = "primary",
    urgency: str = "immediate",
    commune: str = COMMUNE,
    province: str = PROVINCE,
    status_updates: bool = False,
    reporter_chat: int | None = 555,
    config: LadderConfig | None = None,
    consent_orgs: str | None = "health,social,police,legal_aid,shelter",
    consent_referral: bool = True,
) -> tuple[Case, Referral]:
    """A case (created the real way) with a referral and its first deadlines."""
    contact = {"method": "chat", "phone": None, "safe_times": None,
               "status_updates": status_updates}  # fmt: skip
    case, _code = await create_case(
        session,
        vault,
        NewCase(
            channel="telegram",
            reporter="survivor",
            urgency=urgency,
            place_scheme="2025",
            province_code=province,
            commune_code=commune,
            consent_referral=consent_referral,
            consent_orgs=consent_orgs,
            sealed={
                "narrative": ["CANARY-NARRATIVE"],
                "details": {"language": "vi"},
                "contact": contact,
                "reporter_address": {
                    "channel": "telegram",
                    "user": str(reporter_chat),
                    "chat": reporter_chat,
                },
            },
        ),
        now=now,
    )
    referral = Referral(
        id=secrets.token_hex(16),
        case_id=case.id,
        focal_point_id=focal_point_id,
        status="notified",
        created_at=now,
        notified_at=now,
    )
    session.add(referral)
    await session.flush()
    await schedule_referral(session, referral, urgency, now, config)
    return case, referral


async def bulk_referrals(
    session: AsyncSession,
    vault: Any,
    *,
    count: int,
    due_at: list[datetime] | datetime,
    created: datetime,
    focal_point_ids: list[str],
    communes: list[str],
    province: str = PROVINCE,
    urgency: str = "immediate",
    kind: str = "escalate",
    level: int = 0,
    ref_prefix: str = "B-",
) -> list[str]:
    """``count`` cases, each with one referral at ``level`` and one pending deadline.

    Case ``i`` is in ``communes[i % len]`` with ``focal_point_ids[i % len]``; refs are
    ``B-000001``… (returned). Shares one data key; writes no audit events.
    """
    key_id, _aead = await new_data_key(session, vault)
    refs, cases, referrals, deadlines = [], [], [], []
    for i in range(count):
        case_id, ref_id = secrets.token_hex(16), secrets.token_hex(16)
        ref = f"{ref_prefix}{i:06d}"
        refs.append(ref)
        cases.append(
            dict(id=case_id, ref=ref, data_key_id=key_id, created_at=created, updated_at=created,
                 channel="telegram", reporter="survivor", province_code=province,
                 place_scheme="2025",
                 commune_code=communes[i % len(communes)], urgency=urgency, status="notified",
                 assigned_focal_point_id=focal_point_ids[i % len(focal_point_ids)],
                 escalation_level=level, consent_referral=True, consent_stats=False,
                 consent_orgs="health,social,police,legal_aid,shelter",
                 disability=None)
        )  # fmt: skip
        referrals.append(
            dict(id=ref_id, case_id=case_id, focal_point_id=focal_point_ids[i % len(focal_point_ids)],
                 status="notified", level=level, created_at=created, notified_at=created)
        )  # fmt: skip
        due = due_at[i] if isinstance(due_at, list) else due_at
        deadlines.append(
            dict(referral_id=ref_id, level=level, kind=kind, due_at=due, state="pending")
        )
    for table, rows in ((Case, cases), (Referral, referrals), (EscalationDeadline, deadlines)):
        for start in range(0, len(rows), 2000):
            await session.exec(insert(table), params=rows[start : start + 2000])
    return refs
