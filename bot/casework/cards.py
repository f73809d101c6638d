"""The referral card, rebuilt from the stored case: the one place its facts come from."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import case_plan
from bot.casework.common import (
    FOCAL_LANG,
)
from dialogs import actions as A
from dialogs import focal_texts as T
from routing.directory import CommuneSuggestion
from routing.places import PlaceCode, load_places
from storage import (
    media,
)
from storage.models import (
    Case,
    EscalationDeadline,
    Referral,
)
from storage.records import data_key_of, open_from
from storage.store import Store


class Cards:
    """Cards for chats and the inbox."""

    async def report_view(self, session: AsyncSession, case: Case) -> dict[str, Any]:
        return await read_report_view(session, self.store, case)

    def facts(self, case: Case, view: dict[str, Any], content: bool) -> T.CardFacts:
        return self._facts(case, view, content)

    async def card_for(
        self, session: AsyncSession, referral: Referral, case: Case, *, fresh: bool = True
    ) -> A.Send:
        """The card of a stored case (for an inbox), rebuilt from its sealed fields;
        ``fresh``: titled as a new report."""
        report = await read_report_view(session, self.store, case)
        return await self._card(session, referral, case, report, fresh=fresh)

    async def _card(
        self,
        session: AsyncSession,
        referral: Referral,
        case: Case,
        report: dict[str, Any] | None = None,
        *,
        recordings: int | None = None,
        fresh: bool = True,
    ) -> A.Send:
        """The card, always rebuilt from the stored case (``report`` is ignored: the first
        card, a transfer's and an escalation's say the same). Only what the task needs;
        account, phone and location only with consent."""
        view = await read_report_view(session, self.store, case)
        shelter_name = None
        if referral.shelter_id:
            from storage.models import Shelter

            shelter = await session.get(Shelter, referral.shelter_id)
            if shelter is not None:
                key = await data_key_of(session, self.store.vault, shelter)
                shelter_name = open_from(self.store.vault, key, shelter, "name")
        content = T.shows_content(case.consent_referral)
        contact = view["contact"]
        account = view["free_text"]["account"] or None
        # web recordings linked to the case: the card says where to listen to them
        if recordings is None:
            recordings = await media.count_for_case(session, case.id) if content else 0
        facts = replace(  # the risk check is for the hotline's own people (bot.case_plan)
            self._facts(case, view, content), risk=await case_plan.risk_yes(session, self, case)
        )
        return T.referral_card(
            FOCAL_LANG,
            referral_id=referral.id,
            case_ref=case.ref,
            facts=facts,
            shelter=shelter_name,
            account=account if content else None,
            phone=contact.get("phone") if content and contact.get("method") == "phone" else None,
            reason=await card_reason(session, referral),
            recordings=recordings,
            fresh=fresh,
        )

    def _facts(self, case: Case, view: dict[str, Any], content: bool) -> T.CardFacts:
        """The one place a card's facts come from (chat cards and the web inbox)."""
        details = view["details"]
        witness = details.get("witness") or {}
        location = view["location"] if content else None
        nearest = self._nearest_commune(*location) if location and not case.commune_code else None
        contact = details.get("contact_method") or (view["contact"] or {}).get("method")
        return T.CardFacts(
            urgency=case.urgency,
            reasons=tuple(details.get("urgency_reasons") or ()),
            reporter=case.reporter,
            types=tuple(details.get("types") or ()),
            category=case.category,
            perpetrator=details.get("perpetrator"),
            when=details.get("when"),
            age_band=case.age_band,
            child=bool(details.get("child_protection") or witness.get("victim_is_child")),
            relation=witness.get("relation"),
            victim_knows=(
                {True: "yes", False: "no"}.get(witness.get("victim_knows"), "unsure")
                if witness
                else None
            ),
            commune=self._commune_name(case),
            location=location,
            nearest=nearest.label if nearest else None,
            nearest_km=nearest.distance_km if nearest else None,
            contact=contact,
            safe_times=details.get("safe_times") or (view["contact"] or {}).get("safe_times"),
            needs=tuple(details.get("needs") or ()),
        )

    def _nearest_commune(self, lat: float, lon: float) -> CommuneSuggestion | None:
        """The commune of the nearest office to a shared location (an estimate: the
        person did not confirm it)."""
        try:
            found = self.directory().suggest_communes(lat, lon, limit=1)
        except (AssertionError, ValueError):  # no directory loaded, or odd coordinates
            return None
        return found[0] if found else None

    def _commune_name(self, case: Case) -> str:
        if not case.commune_code:
            return ""
        found = load_places().commune(PlaceCode(case.place_scheme, case.commune_code))
        return str(found.name) if found else case.commune_code


async def card_reason(session: AsyncSession, referral: Referral) -> str | None:
    """Why a card reached a rung above the first: ``escalated`` when an earlier rung let
    its deadline pass (a climb's deadline is done), ``off_duty`` when it was routed there
    at once because no one before it was on duty."""
    if not referral.level:
        return None
    climb = (
        await session.exec(
            select(EscalationDeadline.id).where(
                EscalationDeadline.referral_id == referral.id,
                EscalationDeadline.kind == "escalate",
                EscalationDeadline.state == "done",
            )
        )
    ).first()
    return "escalated" if climb is not None else "off_duty"


def language_of(report: dict[str, Any]) -> str | None:
    """The language routing prefers: the one she wants help in (a report from before it was
    carried: the conversation's)."""
    return report.get("preferred_language") or report.get("language")


async def read_report_view(session: AsyncSession, store: Store, case: Case) -> dict[str, Any]:
    """The parts of a stored case a referral card needs, rebuilt from its sealed fields."""
    key = await data_key_of(session, store.vault, case)
    opened = open_from(store.vault, key, case, "details") or {}
    narrative = open_from(store.vault, key, case, "narrative")
    contact = open_from(store.vault, key, case, "contact") or {}
    location = open_from(store.vault, key, case, "location") or {}
    return {
        "needs": opened.get("needs") or [],
        "free_text": {"account": narrative or []},
        "contact": contact,
        "language": opened.get("language"),
        "preferred_language": opened.get("preferred_language"),
        "details": opened,
        "location": (
            (float(location["lat"]), float(location["lon"]))
            if location.get("lat") is not None and location.get("lon") is not None
            else None
        ),
    }
