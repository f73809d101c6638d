"""The hotline service: one inbound event in, engine run, commands carried out, replies queued.

Channel adapters call :meth:`Hotline.handle` with an :class:`Inbound`. In one transaction
it loads the chat's sealed conversation, runs the pure engine, carries out the engine's
commands (store the report, look up a receipt, search a place…) and feeds their results
back, saves the conversation and queues the replies in the outbox. Nothing is sent before
the transaction commits, and a crash before it commits leaves the update to be retried.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

import dialogs
from bot import deliveries
from bot.channel import Renderer
from dialogs import commands as C
from dialogs import events as E
from storage import cases, conversations, outbox
from storage.db import after_commit, transaction
from storage.models import Case, CaseMessage
from storage.records import data_key_of, open_from, seal_into
from storage.store import Store

MAX_COMMAND_ROUNDS = 8
INCOMING_KEPT = timedelta(hours=48)  # bots may delete messages younger than 48 hours
LOOKUPS_PER_CHAT = 5  # receipt attempts per chat per window
LOOKUPS_GLOBAL = 120  # receipt attempts per process per window
LOOKUP_WINDOW_S = 15 * 60


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Inbound:
    """One thing a person did on a channel. ``user_id``/``chat_id`` are raw ids used only to
    derive the pseudonymous key and, sealed, to answer; names never get this far."""

    channel: str
    user_id: str
    chat_id: int | str
    event: E.Event
    message_id: int | None = None
    update_id: deliveries.Ref = None  # Telegram's update_id, Zalo's message_id


@dataclass
class _Turn:
    """What one inbound event produced, gathered before anything is written."""

    channel: str
    user_id: str
    chat_id: int | str
    actions: list[Any] = field(default_factory=list)
    shred: bool = False


class RateWindow:
    """A sliding-window counter (in memory, per process)."""

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit, self.window_s = limit, window_s
        self._hits: deque[float] = deque()

    def allow(self, now_s: float) -> bool:
        while self._hits and self._hits[0] <= now_s - self.window_s:
            self._hits.popleft()
        if len(self._hits) >= self.limit:
            return False
        self._hits.append(now_s)
        return True


PlaceSearch = Callable[[str, str], list[dict[str, Any]]]
NearestSearch = Callable[[float, float], list[dict[str, Any]]]
CaseHook = Callable[[AsyncSession, Case, dict[str, Any], datetime], Awaitable[Any]]
RelayHook = Callable[[AsyncSession, Case, list[str], datetime], Awaitable[Any]]


def search_places(query: str, lang: str) -> list[dict[str, Any]]:
    """Commune candidates for a typed name (with or without diacritics, with typos)."""
    from routing.search import search_communes

    return [
        {
            "code": str(match.commune.code),
            "name": match.commune.name,
            "province_name": match.province.name,
        }
        for match in search_communes(query, limit=5)
    ]


class Hotline:
    """Runs conversations for every channel over one store."""

    def __init__(
        self,
        store: Store,
        renderers: dict[str, Renderer],
        *,
        draft_ttl: timedelta = dialogs.DEFAULT_TTL,
        clock: Callable[[], datetime] = utcnow,
        place_search: PlaceSearch = search_places,
        nearest_places: NearestSearch | None = None,
        on_case_created: CaseHook | None = None,
        on_survivor_message: RelayHook | None = None,
        on_wake: Callable[[], None] | None = None,
    ) -> None:
        self.store = store
        self.renderers = renderers
        self.draft_ttl = draft_ttl
        self.clock = clock
        self.place_search = place_search
        self.nearest_places = nearest_places
        self.on_case_created = on_case_created
        self.on_survivor_message = on_survivor_message
        self.on_wake = on_wake
        self.global_lookups = RateWindow(LOOKUPS_GLOBAL, LOOKUP_WINDOW_S)

    async def handle(self, inbound: Inbound) -> None:
        """Handle one inbound event end to end (engine, commands, state, outbox)."""
        vault = self.store.vault
        now = self.clock()
        key = conversations.conversation_key(vault, inbound.channel, inbound.user_id)
        async with transaction(self.store.sessions) as session:
            row, stored = await conversations.load_state(session, vault, key)
            stored = stored if isinstance(stored, dict) else {}
            if deliveries.delivered_before(stored, inbound.update_id, now):
                return  # delivered again after a restart
            engine_state = stored.get("engine")  # an expired draft: the engine asks to shred it
            turn = _Turn(channel=inbound.channel, user_id=inbound.user_id, chat_id=inbound.chat_id)
            engine_state = await self._run_engine(
                session, stored, engine_state, inbound.event, now, turn
            )
            incoming = self._track_incoming(stored, inbound, now)
            if turn.shred and row is not None:
                await conversations.shred(session, vault, key)
                row = None
            stored.update(engine=engine_state, chat=inbound.chat_id, **{"in": incoming})
            deliveries.mark(stored, inbound.update_id, now)
            row = await conversations.save_state(
                session, vault, key, stored, now=now, ttl=self.draft_ttl, row=row
            )
            await self._queue(session, row, inbound, turn.actions, incoming, now, engine_state)
        if turn.actions and self.on_wake is not None:
            after_commit(self.on_wake)

    # -- engine and commands ------------------------------------------------------------

    async def _run_engine(
        self,
        session: AsyncSession,
        stored: dict,
        state: Any,
        event: E.Event,
        now: datetime,
        turn: _Turn,
    ) -> Any:
        state, actions, commands = dialogs.handle(state, event, now, ttl=self.draft_ttl)
        turn.actions.extend(actions)
        for _ in range(MAX_COMMAND_ROUNDS):
            if not commands:
                break
            pending, commands = commands, []
            for command in pending:
                result = await self._carry_out(session, stored, state, command, now, turn)
                if result is None:
                    continue
                state, actions, more = dialogs.handle(state, result, now, ttl=self.draft_ttl)
                turn.actions.extend(actions)
                commands.extend(more)
        return state

    async def _carry_out(
        self,
        session: AsyncSession,
        stored: dict,
        state: Any,
        command: C.Command,
        now: datetime,
        turn: _Turn,
    ) -> E.Event | None:
        vault = self.store.vault
        match command:
            case C.SubmitReport(report=report):
                case, code = await cases.create_case(
                    session, vault, _new_case(report, turn), now=now
                )
                if self.on_case_created is not None:
                    await self.on_case_created(session, case, report, now)
                return E.ReportSubmitted(receipt_code=code, case_ref=case.ref)
            case C.LookupReceipt(code=code):
                return await self._lookup(session, stored, code, now)
            case C.SearchPlace(query=query, lang=lang):
                return E.PlaceCandidates(candidates=tuple(self.place_search(query, lang)))
            case C.NearestPlaces(lat=lat, lon=lon):
                found = self.nearest_places(lat, lon) if self.nearest_places else []
                return E.PlaceCandidates(candidates=tuple(found))
            case (
                C.AddToReport(case_ref=ref, texts=texts, media=media)
                | C.RelayToFocal(case_ref=ref, texts=texts, media=media)
            ):
                case = await _case_by_ref(session, ref)
                if case is None:
                    return E.Failed(name=type(command).__name__)
                await _add_message(
                    session,
                    vault,
                    case,
                    "survivor",
                    {"texts": list(texts), "media": list(media)},
                    now,
                )
                if self.on_survivor_message is not None:
                    await self.on_survivor_message(session, case, list(texts), now)
                return E.Done(name=type(command).__name__)
            case C.WithdrawCase():
                return None  # always paired with DeleteCase, which does the work
            case C.DeleteCase(case_ref=ref):
                case = await _case_by_ref(session, ref)
                if case is not None:
                    await cases.delete_case(session, vault, case, now=now, actor_role="survivor")
                return E.Done(name="DeleteCase")
            case C.StopContact(case_ref=ref):
                case = await _case_by_ref(session, ref)
                if case is None:
                    return E.Failed(name="StopContact")
                seal_into(
                    vault,
                    await data_key_of(session, vault, case),
                    case,
                    reporter_address=None,
                    contact=None,
                )
                case.updated_at = now
                session.add(case)
                return E.Done(name="StopContact")
            case C.DeleteDraft():
                turn.shred = True
                return None
        return None

    async def _lookup(
        self, session: AsyncSession, stored: dict, code: str, now: datetime
    ) -> E.Event:
        now_s = now.timestamp()
        mine = [t for t in stored.get("look", []) if t > now_s - LOOKUP_WINDOW_S]
        if len(mine) >= LOOKUPS_PER_CHAT or not self.global_lookups.allow(time.monotonic()):
            stored["look"] = mine
            return E.RateLimited(retry_after_s=int(LOOKUP_WINDOW_S))
        stored["look"] = [*mine, now_s]
        case = await cases.find_by_receipt(session, self.store.vault, code)
        if case is None:
            return E.CaseNotFound()
        stored["look"] = mine  # a right code does not count against the person
        messages = await _focal_messages(session, self.store.vault, case)
        return E.CaseFound(case_ref=case.ref, status=case.status, messages=tuple(messages))

    # -- outbox -----------------------------------------------------------------------------

    @staticmethod
    def _track_incoming(stored: dict, inbound: Inbound, now: datetime) -> list[list[int]]:
        """Incoming message ids of the last 48 hours, for a quick exit to delete."""
        horizon = (now - INCOMING_KEPT).timestamp()
        kept = [pair for pair in stored.get("in", []) if pair[1] > horizon]
        if inbound.message_id is not None:
            kept.append([inbound.message_id, int(now.timestamp())])
        return kept[-500:]

    async def _queue(
        self,
        session: AsyncSession,
        row: conversations.StateRow,
        inbound: Inbound,
        actions: list[Any],
        incoming: list[list[int]],
        now: datetime,
        engine_state: Any = None,
    ) -> None:
        renderer = self.renderers[inbound.channel]
        aead = await data_key_of(session, self.store.vault, row)
        incoming_ids = [pair[0] for pair in incoming]
        lang = engine_state.get("l", "vi") if isinstance(engine_state, dict) else "vi"
        calls = [
            (call.method, call.params)
            for action in actions
            for call in renderer.render(action, inbound.chat_id, incoming=incoming_ids, lang=lang)
        ]
        await outbox.enqueue_many(
            session,
            self.store.vault,
            aead,
            data_key_id=row.data_key_id,
            channel=inbound.channel,
            queue_key=row.key,
            calls=calls,
            now=now,
        )


def _new_case(report: dict[str, Any], turn: _Turn) -> cases.NewCase:
    """Split the engine's report into plaintext routing fields and sealed content."""
    from routing.places import PlaceCode, PlaceCodeError, load_places

    place = report.get("place") or {}
    scheme = commune = province = None
    if place.get("commune_code"):
        try:
            code = PlaceCode.parse(str(place["commune_code"]))
            found = load_places().province_of(code)
            scheme, commune = code.scheme, code.code
            province = found.code.code if found else None
        except PlaceCodeError:
            pass
    consent = report.get("consent") or {}
    contact = report.get("contact") or {}
    free = report.get("free_text") or {}
    location = (
        {"lat": place["lat"], "lon": place["lon"]} if "lat" in place and "lon" in place else None
    )
    # The chat is a way back only when the person chose it (DESIGN §5).
    wants_chat = contact.get("method") == "chat" or contact.get("status_updates")
    details_keys = (
        "flow",
        "types",
        "context",
        "perpetrator",
        "when",
        "ethnic_group",
        "needs",
        "witness",
        "language",
    )
    return cases.NewCase(
        channel=turn.channel,
        reporter=report.get("reporter", "survivor"),
        urgency=report.get("urgency", "normal"),
        category=report.get("category"),
        place_scheme=scheme,
        province_code=province,
        commune_code=commune,
        age_band=report.get("age_band"),
        sex=report.get("sex"),
        disability=report.get("disability"),
        consent_referral=bool((consent.get("referral") or {}).get("value")),
        consent_orgs=",".join((consent.get("organisations") or {}).get("value") or []) or None,
        consent_stats=bool((consent.get("statistics") or {}).get("value")),
        sealed={
            "narrative": free.get("account") or None,
            "attachments": free.get("media") or None,
            "details": {key: report.get(key) for key in details_keys},
            "location": location,
            "contact": contact if contact.get("method") == "phone" else None,
            "reporter_address": (
                {"channel": turn.channel, "user": turn.user_id, "chat": turn.chat_id}
                if wants_chat
                else None
            ),
        },
    )


async def _case_by_ref(session: AsyncSession, ref: str) -> Case | None:
    return (await session.exec(select(Case).where(Case.ref == ref))).first()


async def _add_message(
    session: AsyncSession, vault, case: Case, sender: str, body: dict, now: datetime
) -> None:
    import secrets

    message = CaseMessage(
        id=secrets.token_hex(16),
        case_id=case.id,
        data_key_id=case.data_key_id,
        sender=sender,
        created_at=now,
    )
    seal_into(vault, await data_key_of(session, vault, case), message, body=body)
    session.add(message)
    case.updated_at = now
    session.add(case)


async def _focal_messages(session: AsyncSession, vault, case: Case) -> list[dict[str, Any]]:
    rows = (
        await session.exec(
            select(CaseMessage)
            .where(CaseMessage.case_id == case.id, CaseMessage.sender == "focal_point")
            .order_by(CaseMessage.created_at)
        )
    ).all()
    aead = await data_key_of(session, vault, case)
    out = []
    for message in rows:
        body = open_from(vault, aead, message, "body") or {}
        for text in body.get("texts", []):
            out.append({"at": message.created_at.isoformat(), "text": text})
    return out
