"""What the walker reads from the database, through the storage API (run on the app's loop)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import func, select

from storage import cases, conversations
from storage.db import transaction
from storage.models import Case, CaseMessage, FocalPoint, Receipt, Referral


@dataclass
class CaseView:
    id: str
    ref: str
    created_at: datetime
    status: str
    urgency: str
    consent_referral: bool
    assigned: str | None
    receipts: int
    referrals: list[tuple[str, str, str, str]] = field(default_factory=list)
    # (referral id, focal point id, the focal point's role, referral status)
    survivor_messages: int = 0


async def engine_state(store: Any, channel: str, identity: str) -> dict:
    """The person's engine state (step ``s``, waiting ``w``, follow-up ``case``…)."""
    key = conversations.conversation_key(store.vault, channel, identity)
    async with transaction(store.sessions) as session:
        _row, stored = await conversations.load_state(session, store.vault, key)
    engine = (stored or {}).get("engine") if isinstance(stored, dict) else None
    return engine if isinstance(engine, dict) else {}


# Far longer than a step may take (tests.walk.stack.TIMEOUT_S), and than the coarseness of
# stored creation times (to the minute): a step's new cases are all this recent.
RECENT = timedelta(minutes=10)


async def _recent_ids(session) -> list[str]:
    since = datetime.now(UTC) - RECENT
    return list((await session.exec(select(Case.id).where(Case.created_at >= since))).all())


async def case_ids(store: Any) -> frozenset[str]:
    """The ids of the cases created lately: what a step created is what is not among them
    afterwards (reading only recent ones keeps a step's cost flat over a long run)."""
    async with transaction(store.sessions) as session:
        return frozenset(await _recent_ids(session))


async def cases_not_in(store: Any, known: frozenset[str]) -> list[CaseView]:
    """Every recent case not in ``known``, oldest first, with its receipts and referrals."""
    async with transaction(store.sessions) as session:
        new = [i for i in await _recent_ids(session) if i not in known]
        query = select(Case).where(Case.id.in_(new)).order_by(Case.created_at, Case.ref)
        rows = (await session.exec(query)).all() if new else []
        return await _views(session, rows)


async def cases_by_id(store: Any, ids: list[str]) -> list[CaseView]:
    """The cases of ``ids`` that still exist, in that order."""
    async with transaction(store.sessions) as session:
        rows = (await session.exec(select(Case).where(Case.id.in_(ids)))).all() if ids else []
        views = {view.id: view for view in await _views(session, rows)}
    return [views[i] for i in ids if i in views]


async def _views(session, rows) -> list[CaseView]:
    out = []
    for case in rows:
        receipts = (
            await session.exec(
                select(func.count()).select_from(Receipt).where(Receipt.case_id == case.id)
            )
        ).one()
        referrals = (
            await session.exec(
                select(Referral, FocalPoint)
                .join(FocalPoint, FocalPoint.id == Referral.focal_point_id)
                .where(Referral.case_id == case.id)
                .order_by(Referral.created_at)
            )
        ).all()
        messages = (
            await session.exec(
                select(func.count())
                .select_from(CaseMessage)
                .where(CaseMessage.case_id == case.id, CaseMessage.sender == "survivor")
            )
        ).one()
        out.append(
            CaseView(
                case.id,
                case.ref,
                case.created_at,
                case.status,
                case.urgency,
                case.consent_referral,
                case.assigned_focal_point_id,
                receipts,
                [(r.id, fp.id, fp.role, r.status) for r, fp in referrals],
                messages,
            )
        )
    return out


async def case_of_receipt(store: Any, code: str) -> str | None:
    async with transaction(store.sessions) as session:
        case = await cases.find_by_receipt(session, store.vault, code)
        return case.id if case is not None else None


async def case_by_ref(store: Any, ref: str) -> CaseView | None:
    async with transaction(store.sessions) as session:
        case = (await session.exec(select(Case).where(Case.ref == ref))).first()
        found = await _views(session, [case]) if case is not None else []
    return found[0] if found else None
