"""Relay both ways under the case reference: the focal point's words to the survivor's
chat, her follow-ups to the case's holder; news of the case for a survivor who opted in."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.casework.common import (
    FOCAL_LANG,
)
from dialogs import actions as A
from dialogs import events as E
from dialogs import focal_texts as T
from routing.ladder import wants_news
from storage import (
    media,
)
from storage.models import (
    Case,
    CaseMessage,
    FocalPoint,
    Referral,
)
from storage.records import data_key_of, open_from, seal_into


class Relay:
    """Relay and news."""

    async def relay_to_survivor(
        self, session: AsyncSession, case: Case, body: str, now: datetime
    ) -> bool:
        """Store the focal point's message on the case and, if the survivor chose contact
        through the chat, queue it to their chat as from "the focal point"."""
        vault = self.store.vault
        case_key = await data_key_of(session, vault, case)
        message = CaseMessage(
            id=secrets.token_hex(16),
            case_id=case.id,
            data_key_id=case.data_key_id,
            sender="focal_point",
            created_at=now,
        )
        seal_into(vault, case_key, message, body={"texts": [body], "media": []})
        session.add(message)
        return await self.tell_survivor(
            session, case, E.CaseNews(case.ref, "reply", text=body), now
        )

    async def tell_survivor(
        self, session: AsyncSession, case: Case, news: E.CaseNews, now: datetime
    ) -> bool:
        """Pass news of the case to the survivor's chat, only if they chose contact through
        it; their conversation decides what it shows (in their language, nothing after a
        quick exit) and it joins its queue (kept in order, removed by a quick exit)."""
        vault = self.store.vault
        address = open_from(
            vault, await data_key_of(session, vault, case), case, "reporter_address"
        )
        if not address or not address.get("user") or self.deliver is None:
            return False
        return await self.deliver(
            session, address.get("channel"), address["user"], address.get("chat"), news, now
        )

    async def tell_news(
        self, session: AsyncSession, case: Case, news: E.CaseNews, now: datetime
    ) -> bool:
        """What happened to the case, for a survivor who opted into news (DESIGN §5)."""
        contact = open_from(
            self.store.vault, await data_key_of(session, self.store.vault, case), case, "contact"
        )
        return wants_news(contact) and await self.tell_survivor(session, case, news, now)

    async def relay_to_focal(
        self, session: AsyncSession, case: Case, texts: list[str], now: datetime
    ) -> bool:
        """Pass a survivor's follow-up message to the case's holder, by case ref: to their
        chat when they have one, and always onto the case their web inbox shows.

        On a closed case the message reopens it to the last holder, who is told so with
        the message. Returns False, so the person is told it was not passed on, only when
        no one can take it up: nobody holds the case, or it is closed and its last holder
        has left the directory."""
        if not case.assigned_focal_point_id:
            return False
        focal = await session.get(FocalPoint, case.assigned_focal_point_id)
        if focal is None:
            return False
        header = T.text(FOCAL_LANG, "focal.from_survivor", ref=case.ref)
        if case.status == "closed":
            if not await self._reopen(session, focal, case, now):
                return False
            header = T.text(FOCAL_LANG, "focal.reopened", ref=case.ref)
        body = header + "\n" + "\n".join(f"« {t} »" for t in texts)
        recorded = await media.survivor_media_ids_at(session, self.store.vault, case, now)
        playable = set(recorded) & set(await media.linked_ids(session, case.id)) if recorded else ()
        if playable:  # web recordings are played in the web inbox only
            body = body.rstrip("\n") + "\n" + T.voice_note(FOCAL_LANG, len(playable))
        referral = (
            await session.exec(
                select(Referral)
                .where(Referral.case_id == case.id, Referral.focal_point_id == focal.id)
                .order_by(Referral.created_at.desc())
            )
        ).first()
        options = T.actions(FOCAL_LANG, referral.id) if referral else ()
        await self._send(session, focal, A.Send(body, options), now)
        return True
