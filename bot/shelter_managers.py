"""Shelter managers keep their shelter's occupancy live, and full shelters are flagged.

A shelter manager is a ``focal_points`` row of role ``shelter_manager`` tied to one shelter
(``shelter_id``): created here (:func:`add_manager`), it binds a chat account with an
invite code exactly as a focal point does (``/focal CODE``; the web sign-in too), and is
never routed a case nor may act on one (:mod:`routing.consent` knows no such recipient,
so :func:`routing.access.may_act` refuses it; the routing directory leaves it out).

From its chat it sends the number of people staying now; in the web inbox it types it.
Either sets the occupancy (:func:`storage.directory_store.count`, the one place that also
keeps since when a shelter is full). A shelter full for more than :data:`FULL_FLAG_AFTER`
is flagged once to its province desk by a job (:func:`flag_full`); once a place is free
again, a later fill is flagged anew. Everything is audited; only codes are stored.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import shelters
from dialogs import actions as A
from dialogs import focal_texts as T
from routing.matching import province_desk_for
from routing.places import PlaceCode
from storage.db import transaction
from storage.directory_store import MANAGER, count
from storage.models import FocalPoint, Shelter
from storage.records import new_data_key, seal_into

if TYPE_CHECKING:
    from bot.casework import CaseworkService

LANG = "vi"
FULL_FLAG_AFTER = timedelta(days=1)


def number(text: str) -> int | None:
    """A count typed by a manager: 1 to 4 ASCII digits, else None (``"²"`` is a digit to
    :meth:`str.isdigit` but not to :func:`int`)."""
    text = text.strip()
    if text.isascii() and text.isdigit() and len(text) <= 4:
        return int(text)
    return None


def manager_id(shelter_id: str) -> str:
    return f"mgr-{shelter_id}"[:64]


async def add_manager(desk: CaseworkService, shelter_id: str, *, now: datetime) -> str:
    """The manager of ``shelter_id`` (created once, in the shelter's province and commune,
    named after it); invite it with :meth:`bot.casework.CaseworkService.invite`."""
    vault = desk.store.vault
    async with transaction(desk.store.sessions) as session:
        shelter = await session.get(Shelter, shelter_id)
        if shelter is None:
            raise KeyError(shelter_id)
        row = await session.get(FocalPoint, manager_id(shelter_id))
        if row is None:
            key_id, aead = await new_data_key(session, vault)
            row = FocalPoint(
                id=manager_id(shelter_id),
                data_key_id=key_id,
                place_scheme=shelter.place_scheme,
                province_code=shelter.province_code,
                commune_code=shelter.commune_code,
                role=MANAGER,
                shelter_id=shelter.id,
                updated_at=now,
            )
            name = await shelters.name_of(session, desk, shelter)
            seal_into(vault, aead, row, display_name=name)
            session.add(row)
            await desk.audit(session, "shelter.manager_added", row.id, None, now, role="admin")
        return row.id


async def _manager(session: AsyncSession, desk: CaseworkService, channel: str, user_id: str):
    focal = await desk.identify(session, channel, user_id)
    if focal is None or focal.role != MANAGER or not focal.shelter_id:
        return None, None
    return focal, await session.get(Shelter, focal.shelter_id)


async def bound_text(session: AsyncSession, desk: CaseworkService, manager: FocalPoint) -> str:
    """What a manager's chat is told once bound: its shelter, and how to set occupancy."""
    shelter = await session.get(Shelter, manager.shelter_id) if manager.shelter_id else None
    name = await shelters.name_of(session, desk, shelter) if shelter is not None else ""
    return T.text(LANG, "shelter.bound", shelter=name, ref=manager.id)


async def set_occupancy(
    session: AsyncSession, desk: CaseworkService, manager: FocalPoint, value: int, now: datetime
) -> Shelter | None:
    """The manager's shelter now counts ``value`` people (0..capacity); None if refused."""
    shelter = await session.get(Shelter, manager.shelter_id) if manager.shelter_id else None
    if shelter is None or manager.role != MANAGER or not 0 <= value <= shelter.capacity:
        await desk.audit(session, "focal.forbidden", manager.id, None, now)
        return None
    count(shelter, value, now)
    session.add(shelter)
    await desk.audit(session, "shelter.occupancy_set", manager.id, None, now)
    return shelter


async def chat_text(
    session: AsyncSession, desk: CaseworkService, manager: FocalPoint, body: str, now: datetime
) -> None:
    """A manager's chat message (in the desk's transaction): a number sets the occupancy;
    anything else is answered with how to."""
    shelter = await session.get(Shelter, manager.shelter_id) if manager.shelter_id else None
    if shelter is None:
        return
    name = await shelters.name_of(session, desk, shelter)
    value, done = number(body), None
    if value is not None:
        done = await set_occupancy(session, desk, manager, value, now)
    if done is None:
        said = T.text(
            LANG, "shelter.help", shelter=name, n=shelter.occupancy, capacity=shelter.capacity
        )
    else:
        said = T.text(
            LANG, "shelter.occupancy_set", shelter=name, n=done.occupancy, capacity=done.capacity
        )
    await desk.tell(session, manager, said, now)


async def web_set(
    desk: CaseworkService, channel: str, user_id: str, value: str, *, now: datetime
) -> bool:
    """The occupancy typed in the web inbox by a signed-in manager."""
    async with desk.acting(channel, user_id):
        async with transaction(desk.store.sessions) as session:
            manager, shelter = await _manager(session, desk, channel, user_id)
            if manager is None or shelter is None:
                return False
            typed = number(value)
            if typed is None:
                return False
            done = await set_occupancy(session, desk, manager, typed, now)
            if done is None:
                return False
            name = await shelters.name_of(session, desk, done)
            said = T.text(
                LANG, "shelter.occupancy_set", shelter=name, n=done.occupancy,
                capacity=done.capacity,
            )  # fmt: skip
            await desk.tell(session, manager, said, now)
    desk.wake()
    return True


async def flag_full(desk: CaseworkService, *, now: datetime) -> int:
    """Flag, once, each shelter full for more than FULL_FLAG_AFTER to its province desk
    (the one :func:`routing.matching.province_desk_for` picks). A shelter counts as
    flagged only once the message is queued to a bound chat. The number flagged."""
    due = select(Shelter).where(
        Shelter.full_since.is_not(None),
        Shelter.full_since <= now - FULL_FLAG_AFTER,
        Shelter.full_flagged_at.is_(None),
        Shelter.active,
    )
    flagged = 0
    async with transaction(desk.store.sessions) as session:
        for shelter in (await session.exec(due.limit(500))).all():
            if shelter.occupancy < shelter.capacity:
                continue
            province = PlaceCode(shelter.place_scheme, shelter.province_code)
            picked = province_desk_for(desk.directory(), province, now=now)
            row = await session.get(FocalPoint, picked.id) if picked is not None else None
            if row is None:
                continue
            name = await shelters.name_of(session, desk, shelter)
            since = shelter.full_since.astimezone(UTC) if shelter.full_since else now
            hours = int((now - since).total_seconds() // 3600)
            text = T.text(LANG, "shelter.full_flag", shelter=name, hours=hours)
            if not await desk.send(session, row, A.Send(text), now):
                continue  # no chat bound to the desk yet: flagged once one can be told
            shelter.full_flagged_at = now
            session.add(shelter)
            flagged += 1
            await desk.audit(session, "shelter.full_flagged", row.id, None, now, role="system")
    desk.wake()
    return flagged


async def flag_full_now(desk: CaseworkService) -> int:
    return await flag_full(desk, now=datetime.now(UTC))
