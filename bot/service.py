"""The hotline service: one inbound event in, engine run, commands carried out, replies queued.

Channel adapters call :meth:`Hotline.handle` with an :class:`Inbound`. In one transaction
it loads the chat's sealed conversation, runs the pure engine, carries out the engine's
commands (store the report, look up a receipt, search a place…) and feeds their results
back, saves the conversation and queues the replies in the outbox. Nothing is sent before
the transaction commits, and a crash before it commits leaves the update to be retried.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

import dialogs
from bot import deliveries
from bot.attempts import AttemptLimiter
from bot.channel import Renderer
from dialogs import commands as C
from dialogs import events as E
from storage import cases, conversations, outbox, refusals
from storage.db import after_commit, transaction
from storage.models import Case, CaseMessage
from storage.records import data_key_of, open_from, seal_into
from storage.store import Store

MAX_COMMAND_ROUNDS = 8
INCOMING_KEPT = timedelta(hours=48)  # bots may delete messages younger than 48 hours
LOOKUPS_PER_CHAT = 5  # receipt attempts per chat (or web session) per window
# Wrong receipt codes per web address per window: a family or an office behind one address
# can still look up; no overall cap, which one client could use up for everyone else (a
# receipt code has 16 random digits: guessing stays hopeless without one).
LOOKUPS_PER_ADDRESS = 30
LOOKUP_WINDOW_S = 15 * 60
# After a quick exit nothing is sent to the chat until the person writes in it again; this
# long the hotline remembers it (as long as a closed case is kept by default).
LEFT_KEPT = timedelta(days=90)


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
    sender: str | None = None  # the web client's keyed address, for limits per address


@dataclass
class _Turn:
    """What one inbound event produced, gathered before anything is written."""

    channel: str
    user_id: str
    chat_id: int | str
    sender: str | None = None
    actions: list[Any] = field(default_factory=list)
    shred: bool = False
    news: list[E.Event] = field(default_factory=list)  # for this chat, raised by its own turn


# The conversation whose turn is running, so news raised for it joins the turn.
_ACTING: ContextVar[tuple[str, _Turn] | None] = ContextVar("acting_conversation", default=None)


def _left_key(key: str) -> str:
    """Where a quick exit from the chat ``key`` is remembered (nothing else is kept there)."""
    return "left:" + key[:58]


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
        # Senders of this process by channel, which take the rows they can send at once.
        self.senders: dict[str, outbox.Handoff] = {}
        self.on_handled: Callable[[str], None] | None = None  # metrics: one per update
        self.receipt_attempts = AttemptLimiter(
            per_sender=LOOKUPS_PER_ADDRESS,
            per_sender_minutes=LOOKUP_WINDOW_S // 60,
            overall_per_hour=None,
            name="receipt",
        )

    async def read_ahead(self, channel: str, user_ids: set[str]) -> None:
        """Read the conversations of these people at once, for their messages about to be
        handled in the current commit group (storage.conversations.read_ahead)."""
        vault = self.store.vault
        keys = {conversations.conversation_key(vault, channel, user) for user in user_ids}
        async with transaction(self.store.sessions) as session:
            await conversations.read_ahead(session, keys | {_left_key(key) for key in keys})

    async def handle(self, inbound: Inbound) -> None:
        """Handle one inbound event end to end (engine, commands, state, outbox)."""
        vault = self.store.vault
        now = self.clock()
        key = conversations.conversation_key(vault, inbound.channel, inbound.user_id)
        async with transaction(self.store.sessions) as session:
            row, stored, left = await conversations.load_state_and_mark(
                session, vault, key, _left_key(key)
            )
            stored = stored if isinstance(stored, dict) else {}
            if deliveries.delivered_before(stored, inbound.update_id, now):
                return  # delivered again after a restart
            engine_state = stored.get("engine")  # an expired draft: the engine asks to shred it
            turn = _Turn(
                channel=inbound.channel,
                user_id=inbound.user_id,
                chat_id=inbound.chat_id,
                sender=inbound.sender,
            )
            acting = _ACTING.set((key, turn))
            try:
                engine_state = await self._run_engine(
                    session, stored, engine_state, inbound.event, now, turn
                )
            finally:
                _ACTING.reset(acting)
            incoming = self._track_incoming(stored, inbound, now)
            if turn.shred and row is not None:
                await conversations.shred(session, vault, key)
                row = None
            await self._remember_exit(session, key, stored, left, engine_state, now)
            stored.update(engine=engine_state, chat=inbound.chat_id, **{"in": incoming})
            deliveries.mark(stored, inbound.update_id, now)
            ttl = dialogs.keep_for(engine_state, now, self.draft_ttl)
            row = await conversations.save_state(
                session, vault, key, stored, now=now, ttl=ttl, row=row
            )
            told = await self._queue(
                session,
                row,
                inbound.channel,
                inbound.chat_id,
                turn.actions,
                incoming,
                now,
                engine_state,
            )
        if turn.actions and not told and self.on_wake is not None:
            after_commit(self.on_wake)
        if self.on_handled is not None:
            self.on_handled(inbound.channel)

    async def deliver(
        self,
        session: AsyncSession,
        channel: str,
        user_id: str,
        chat_id: int | str,
        event: E.Event,
        now: datetime,
    ) -> bool:
        """News for a person's chat that they did not ask for now (a focal point's reply,
        what happened to their case), in the caller's transaction: the engine decides
        whether and how the chat shows it. False when nothing is sent: the chat was left
        with quick exit (and not written in since), or the channel is not running here."""
        if channel not in self.renderers:
            return False
        vault = self.store.vault
        key = conversations.conversation_key(vault, channel, user_id)
        acting = _ACTING.get()
        if acting is not None and acting[0] == key:  # her own turn raised it: it joins in
            acting[1].news.append(event)
            return True
        row, stored, left = await conversations.load_state_and_mark(
            session, vault, key, _left_key(key)
        )
        if left:
            return False
        stored = stored if isinstance(stored, dict) else {}
        state, actions, commands = dialogs.handle(
            stored.get("engine"), event, now, ttl=self.draft_ttl
        )
        if row is not None and any(isinstance(c, C.DeleteDraft) for c in commands):
            await conversations.shred(session, vault, key)  # the draft had expired
            row = None
        stored.update(engine=state, chat=stored.get("chat", chat_id))
        row = await conversations.save_state(
            session,
            vault,
            key,
            stored,
            now=now,
            ttl=dialogs.keep_for(state, now, self.draft_ttl),
            row=row,
        )
        incoming = [pair for pair in stored.get("in", []) if isinstance(pair, list)]
        told = await self._queue(
            session, row, channel, stored["chat"], actions, incoming, now, state
        )
        if actions and not told and self.on_wake is not None:
            after_commit(self.on_wake)
        return bool(actions)

    async def _remember_exit(
        self,
        session: AsyncSession,
        key: str,
        stored: dict,
        left: bool,
        engine_state: Any,
        now: datetime,
    ) -> None:
        """A quick exit is remembered apart from the draft (which expires sooner), so no news
        reaches the chat until the person writes in it again. ``left``: the mark is there."""
        vault = self.store.vault
        if isinstance(engine_state, dict) and engine_state.get("s") == "exited":
            await conversations.save(session, vault, _left_key(key), {}, now=now, ttl=LEFT_KEPT)
        elif left:
            await conversations.shred(session, vault, _left_key(key))

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
                news, turn.news = turn.news, []
                for event in [*news, result] if result is not None else news:
                    state, actions, more = dialogs.handle(state, event, now, ttl=self.draft_ttl)
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
                referred = None
                if self.on_case_created is not None:
                    referred = await self.on_case_created(session, case, report, now)
                # Neither a commune nor a location: the referral went to the province desk
                # (routing.matching), and the person is told so.
                place = report.get("place") or {}
                unplaced = not place.get("commune_code") and place.get("lat") is None
                to_desk = referred is not None and unplaced
                return E.ReportSubmitted(receipt_code=code, case_ref=case.ref, to_desk=to_desk)
            case C.LookupReceipt(code=code):
                return await self._lookup(session, stored, code, now, turn.sender)
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
                if case is None:  # deleted meanwhile: say so, no retry can help
                    return E.Failed(name=type(command).__name__, reason="unheld")
                message = await _add_message(
                    session,
                    vault,
                    case,
                    "survivor",
                    {"texts": list(texts), "media": list(media)},
                    now,
                )
                passed = None
                if self.on_survivor_message is not None:
                    passed = await self.on_survivor_message(session, case, list(texts), now)
                # Nobody can read it: a message "to the support person" on a case no one
                # holds, or anything on a closed case no one could reopen. Keep nothing
                # no one will see, and say so. (Information added to an open case that
                # waits for a holder stays on the report, as the person is told.)
                if passed is False and (
                    isinstance(command, C.RelayToFocal) or case.status == "closed"
                ):
                    if message in session.new:
                        session.expunge(message)
                    else:
                        await session.delete(message)
                    return E.Failed(name=type(command).__name__, reason="unheld")
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
                if case is None:  # deleted meanwhile, contact with it: no one can write to her
                    return E.Done(name="StopContact")
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
        self, session: AsyncSession, stored: dict, code: str, now: datetime, sender: str | None
    ) -> E.Event:
        """A receipt code looked up, limited per chat (or web session) and per web address;
        refusals are counted per window (:mod:`storage.refusals`), not audited one by one."""
        now_s = now.timestamp()
        mine = [t for t in stored.get("look", []) if t > now_s - LOOKUP_WINDOW_S]
        stored["look"] = mine
        wait_s = self.receipt_attempts.wait(sender) if sender else 0
        if len(mine) >= LOOKUPS_PER_CHAT or wait_s:
            await refusals.count(session, self.store.keyring, "receipt.limited", at=now)
            return E.RateLimited(retry_after_s=wait_s or int(LOOKUP_WINDOW_S))
        case = await cases.find_by_receipt(session, self.store.vault, code)
        if case is None:  # a right code does not count against the person
            stored["look"] = [*mine, now_s]
            if sender:
                self.receipt_attempts.missed(sender)
            await refusals.count(session, self.store.keyring, "receipt.wrong_code", at=now)
            return E.CaseNotFound()
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
        channel: str,
        chat_id: int | str,
        actions: list[Any],
        incoming: list[list[int]],
        now: datetime,
        engine_state: Any = None,
    ) -> bool:
        """Queue the replies; True when this process's sender is told of them."""
        renderer = self.renderers[channel]
        aead = await data_key_of(session, self.store.vault, row)
        incoming_ids = [pair[0] for pair in incoming]
        lang = engine_state.get("l", "vi") if isinstance(engine_state, dict) else "vi"
        calls = [
            (call.method, call.params)
            for action in actions
            for call in renderer.render(action, chat_id, incoming=incoming_ids, lang=lang)
        ]
        return await outbox.queue_calls(
            session,
            self.store.vault,
            aead,
            data_key_id=row.data_key_id,
            channel=channel,
            queue_key=row.key,
            calls=calls,
            now=now,
            handoff=self.senders.get(channel),
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
        "needs",
        "witness",
        "language",
        "preferred_language",
        "urgency_reasons",
        "danger_signs",
        "child_protection",
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
        ethnic_code=report.get("ethnic_code"),
        migrant=report.get("migrant"),
        contexts=",".join(report.get("counted_contexts") or ()) or None,
        consent_referral=bool((consent.get("referral") or {}).get("value")),
        consent_orgs=",".join((consent.get("organisations") or {}).get("value") or []) or None,
        consent_stats=bool((consent.get("statistics") or {}).get("value")),
        sealed={
            "narrative": free.get("account") or None,
            "attachments": free.get("media") or None,
            # How the person wants to be contacted (a code; the phone stays in "contact").
            "details": {key: report.get(key) for key in details_keys}
            | {"contact_method": contact.get("method"), "safe_times": contact.get("safe_times")},
            "location": location,
            # the phone only for a call back; the choice itself, for news and the card
            "contact": contact if contact.get("method") in ("phone", "chat") else None,
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
) -> CaseMessage:
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
    return message


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
