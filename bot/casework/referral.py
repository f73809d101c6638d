"""A new case referred to its focal point: matching, the urgent alerts, the card sent."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import agencies, shelters
from bot.casework.cards import language_of
from dialogs import events as E
from routing.consent import consent_of, may_receive
from routing.directory import Directory, Role
from routing.ladder import after_hours, urgent_alert_copies
from routing.matching import (
    FocalPointMatch,
    Rung,
    ShelterNeeds,
    match_focal_point,
    match_shelter,
    province_desk_for,
)
from routing.places import PlaceCode
from storage.models import (
    Case,
    FocalPoint,
    Referral,
)


class Referrals:
    """Refer a new case; send its card."""

    async def refer(
        self, session: AsyncSession, case: Case, report: dict[str, Any], now: datetime
    ) -> Referral | None:
        """Refer a new case (with consent) to its focal point and suggest a shelter.

        Whatever the person gave of the place (a confirmed commune, a location, both or
        nothing), :func:`match_focal_point` decides who gets it; a case with no commune
        belongs to the province of the office that took it, so its ladder and its desk
        are that province's. An urgent alert also goes to the province desk at once."""
        if not case.consent_referral:
            return None
        directory = await self._directory(session)
        place = report.get("place") or {}
        commune = PlaceCode(case.place_scheme, case.commune_code) if case.commune_code else None
        if commune is not None and directory.places.commune(commune) is None:
            commune = None  # a code the places no longer know: routed as if not given
        location = (place["lat"], place["lon"]) if "lat" in place and "lon" in place else None
        agreed = consent_of(case)
        roles = {r for r in Role if may_receive(agreed, r.value)}
        match = match_focal_point(
            directory,
            commune_code=commune,
            location=location,
            language=language_of(report),
            now=now,
            roles=roles,
        )
        if match is None:
            return None
        if case.province_code is None:
            province = match.focal_point.province_code
            case.place_scheme, case.province_code = province.scheme, province.code
        shelter = None
        if "shelter" in (report.get("needs") or []):
            needs = ShelterNeeds(
                children=(report.get("age_band") in ("0-11", "12-17")),
                wheelchair=bool(report.get("disability")),
                language=language_of(report),
            )
            shelter = match_shelter(
                directory,
                location=location,
                commune_code=commune if commune or location else None,
                needs=needs,
                occupancy=await shelters.live_occupancy(session, None),
            )
        referral = Referral(
            id=secrets.token_hex(16),
            case_id=case.id,
            focal_point_id=match.focal_point.id,
            shelter_id=shelter.shelter.id if shelter else None,
            status="notified",
            created_at=now,
            notified_at=now,
        )
        session.add(referral)
        case.assigned_focal_point_id, case.status = match.focal_point.id, "notified"
        session.add(case)
        await session.flush()
        await self._audit(
            session,
            action="referral.created",
            role="system",
            actor_id=match.focal_point.id,
            case_id=case.id,
            now=now,
        )
        if self.on_referral is not None:  # sets the rung, which the card names
            await self.on_referral(session, referral, case, now)
        await self.send_card(session, referral, case, report, now)
        child = bool(report.get("child_protection"))  # the child-protection pathway too
        await agencies.refer_child(session, self, referral, case, child, now)
        if case.urgency == "immediate" and match.rung is not Rung.PROVINCE_DESK:
            await self._alert_desk(session, referral, case, report, match, now)
        # The urgent alert: the commune's police desks at once too, if she agreed. The
        # commune is hers, or (a shared location) that of the focal point it reached.
        near = commune or (
            match.focal_point.commune_code
            if match.focal_point.role is not Role.PROVINCE_DESK
            else None
        )
        if near is not None:
            for desk in urgent_alert_copies(
                case.urgency,
                directory.commune_focal_points(near),
                lambda role: may_receive(agreed, role),
                assignee_id=referral.focal_point_id,
                now=now,
            ):
                await self.send_card(session, referral, case, report, now, to=desk.id)
        if commune is not None:  # outside office hours: who has it, and when they will see it
            routed = after_hours(directory.commune_focal_points(commune), match.focal_point, now)
            if routed is not None:
                who, when = routed
                await self.tell_news(
                    session,
                    case,
                    E.CaseNews(
                        case.ref, "after_hours", who=who, when=when.isoformat() if when else None
                    ),
                    now,
                )
        return referral

    async def _directory(self, session: AsyncSession) -> Directory:
        """The directory for routing, less anyone revoked since it was loaded (the CLI
        revokes in another process; the loaded directory is refreshed only now and then)."""
        directory = self.directory()
        inactive = select(FocalPoint.id).where(FocalPoint.active == False)  # noqa: E712
        gone = set((await session.exec(inactive)).all())
        if any(directory.focal_point(id) is not None for id in gone):
            return directory.without(gone)
        return directory

    async def _alert_desk(
        self,
        session: AsyncSession,
        referral: Referral,
        case: Case,
        report: dict[str, Any],
        match: FocalPointMatch,
        now: datetime,
    ) -> None:
        """The urgent alert reaches the province desk at once, beside the commune's people:
        the same card, whose buttons act on the one referral (a province desk may act on
        its province's cases), so whoever acknowledges first stops the climb."""
        desk = province_desk_for(
            self.directory(),
            match.focal_point.province_code,
            language=language_of(report),
            now=now,
        )
        row = await session.get(FocalPoint, desk.id) if desk is not None else None
        if row is None or not may_receive(consent_of(case), row.role):
            return
        card = await self._card(session, referral, case, report)
        if await self._send(session, row, card, now):
            await self._audit(
                session,
                action="referral.desk_alerted",
                role="system",
                actor_id=row.id,
                case_id=case.id,
                now=now,
            )

    async def send_card(
        self,
        session: AsyncSession,
        referral: Referral,
        case: Case,
        report: dict[str, Any],
        now: datetime,
        *,
        to: str | None = None,
    ) -> bool:
        """Queue the referral card to the assigned focal point's chat (if bound), or to
        focal point ``to``; never to one the survivor did not agree to share with."""
        focal = await session.get(FocalPoint, to or referral.focal_point_id)
        if focal is None or not may_receive(consent_of(case), focal.role):
            return False
        card = await self._card(session, referral, case, report)
        sent = await self._send(session, focal, card, now)
        if sent:
            await self._audit(
                session,
                action="referral.card_sent",
                role="system",
                actor_id=focal.id,
                case_id=case.id,
                now=now,
            )
        return sent
