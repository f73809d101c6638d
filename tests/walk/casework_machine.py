"""A random walk over casework (issue #19): the focal-point and agency side of the running
stack. Each example makes a few web reports (each survivor agreeing to a random set of
organisations, each story a fresh canary), then random actors act on random cases through
the real doors: the web inbox (``/focal/act``), the province page (``/focal/province/hand``)
and agencies' chat buttons (fake Bot API callbacks, forged and stale ones too). After every
step :meth:`CaseworkWalk.check` reads the database and the chats and checks the promises;
who should be refused is decided by the one rule, :mod:`routing.access`."""

from __future__ import annotations

import itertools
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from sqlmodel import select

from dialogs import focal_texts as T
from routing.access import may_act, may_hand, may_read
from routing.consent import consent_of, may_receive
from storage.db import transaction
from storage.models import (
    AgencyReferral,
    AuditEvent,
    Case,
    CaseTask,
    FocalPoint,
    Placement,
    Referral,
    Shelter,
)
from tests.dialogs.helpers import DANGER_SKIPPED
from tests.e2e.test_province_view import CODE
from tests.fakes import updates as U
from tests.walk.stack import Stack
from tests.web.driver import WebPerson

ORGS = ("health", "legal", "shelter", "social", "police")
AGENCIES = ("dl-health-bmt", "dl-legalaid", "dl-social", "dl-child", "dl-women")
# the holder is added at run time; the rest: same commune, another commune, desk, agency, police
ACTORS = (
    "holder",
    "bmt-primary-1",
    "bmt-primary-2",
    "bmt-backup-1",
    "bmt-police",
    "tanlap-primary",
    "dl-desk-bmt",
    "dl-desk-tuyhoa",
    "dl-health-bmt",
)
SHELTERS = ("bmt-community", "tanan-social", "krongpac-trusted")
ACTIONS = (
    "ack",
    "reply",
    "ask",
    "note",
    "task",
    "task_done",
    "transfer",
    "close",
    "reopen",
    "place",
    "leave",
    "risk",
    "agency",
)
_LIVE = ("closed", "transferred")
_canaries = itertools.count(1)
STATS: Counter[str] = Counter()  # what the walks did and how they were answered


@dataclass
class Reported:
    case_id: str
    ref: str
    canary: str


@dataclass
class Snapshot:
    """What an operation can change of one case (audit events apart)."""

    rows: tuple

    @staticmethod
    def of(case, referrals, agencies, stays, tasks) -> Snapshot:
        return Snapshot(
            (
                (case.status, case.outcome, case.urgency, case.commune_code),
                sorted((r.id, r.focal_point_id, r.status, r.acknowledged_at) for r in referrals),
                sorted((a.id, a.agency_id, a.status, a.reason, a.service) for a in agencies),
                sorted((p.id, p.shelter_id, p.ended_at) for p in stays),
                sorted((t.id, t.done_at) for t in tasks),
            )
        )


@dataclass
class World:
    case: Case
    referrals: list[Referral]
    agencies: list[AgencyReferral]
    stays: list[Placement]
    tasks: list[CaseTask]
    audit: list[str]  # the case's audit actions, oldest first

    @property
    def audits(self) -> int:
        return len(self.audit)

    def snapshot(self) -> Snapshot:
        return Snapshot.of(self.case, self.referrals, self.agencies, self.stays, self.tasks)

    def live(self) -> list[Referral]:
        return [r for r in self.referrals if r.status not in _LIVE]

    def door(self) -> Referral:
        """The referral a form posts: the live one, else the newest."""
        live = self.live()
        return live[0] if live else max(self.referrals, key=lambda r: r.created_at)


@dataclass
class CaseworkWalk:
    stack: Stack
    cases: list[Reported] = field(default_factory=list)
    clients: dict[str, httpx.Client] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)

    # -- reading ------------------------------------------------------------------------

    def world(self, case_id: str) -> World:
        async def read() -> World:
            async with transaction(self.stack.store.sessions) as s:

                async def rows(model):
                    return list((await s.exec(select(model).where(model.case_id == case_id))).all())

                return World(
                    await s.get(Case, case_id),
                    await rows(Referral),
                    await rows(AgencyReferral),
                    await rows(Placement),
                    await rows(CaseTask),
                    [e.action for e in sorted(await rows(AuditEvent), key=lambda e: e.seq)],
                )

        return self.stack.run(read())

    def focal(self, focal_id: str) -> FocalPoint:
        async def read():
            async with transaction(self.stack.store.sessions) as s:
                return await s.get(FocalPoint, focal_id)

        return self.stack.run(read())

    # -- doing --------------------------------------------------------------------------

    def report(self, orgs: tuple[str, ...]) -> None:
        async def refs() -> set[str]:
            async with transaction(self.stack.store.sessions) as s:
                return set((await s.exec(select(Case.ref))).all())

        canary = f"CANARY-CW-{next(_canaries)}"
        before = self.stack.run(refs())
        person = WebPerson(self.stack.live.url, "vi")
        person.start()
        for code in ("safe", "me", "phys", "psy", "done", "partner", "72h", *DANGER_SKIPPED):
            person.tap(code)
        person.say("buon ma thuot")
        for code in ("c0", "a26", "f", "n", "ede", "n", "med", "done", "y", *orgs, "done"):
            person.tap(code)
        for code in ("y", "chat"):
            person.tap(code)
        person.say(canary)
        for code in ("done", "done", "send"):
            person.tap(code)
        person.close()
        self.stack.wait_sent()
        (ref,) = self.stack.run(refs()) - before

        async def read():
            async with transaction(self.stack.store.sessions) as s:
                return (await s.exec(select(Case).where(Case.ref == ref))).one()

        case = self.stack.run(read())
        self.cases.append(Reported(case.id, ref, canary))
        self.log.append(f"report {orgs} -> {ref}")

    def client(self, focal_id: str) -> httpx.Client:
        if focal_id not in self.clients:
            stack = self.stack
            user = stack.focal_users[focal_id]
            stack.wait_telegram_handled(stack.telegram.inject_update(U.text_update(user, "/web")))
            stack.wait_sent()
            code = CODE.search(stack.telegram.sent_messages(user)[-1].text or "").group(0)
            client = httpx.Client(base_url=stack.live.url, follow_redirects=True, timeout=20)
            csrf = _csrf(client.get("/focal").text)
            answer = client.post("/focal/signin", data={"code": code, "csrf": csrf})
            assert answer.status_code == 200, answer.status_code
            self.clients[focal_id] = client
        return self.clients[focal_id]

    def who(self, actor: str, world: World) -> str:
        return world.door().focal_point_id if actor == "holder" else actor

    def act(self, actor: str, pick: int, action: str, extra: dict[str, str]) -> None:
        case = self.cases[pick % len(self.cases)]
        before = self.world(case.case_id)
        focal_id = self.who(actor, before)
        if focal_id not in self.stack.focal_users:  # inactive in the directory: no door
            return
        client = self.client(focal_id)
        page = client.get("/focal")
        self.answered(page)
        door = before.door()
        form = {"csrf": _csrf(page.text), "referral": door.id, "action": action, **extra}
        if action == "task_done":
            form["task"] = before.tasks[0].id if before.tasks else "t" * 16
        if action == "transfer" and extra.get("commune") == "list":
            options = re.findall(r'<select name="commune">(.*?)</select>', page.text, re.S)
            codes = re.findall(r'value="(\d+)"', options[0]) if options else []
            form["commune"] = codes[pick % len(codes)] if codes else ""
        answer = client.post("/focal/act", data=form)
        # an empty message or transfer is no request: the inbox just shows itself again
        noop = (action in ("reply", "ask", "note") and not form.get("text", "").strip()) or (
            action == "transfer" and not (form.get("text", "").strip() or form.get("commune"))
        )
        self.answered(answer)
        # known, reported: these are answered as done with nothing done (no audit, no change):
        # a transfer to a place with no one to take it (the chat is told focal.transfer.none)
        # and a referral to an agency already holding a live one (told focal.agency.sent again)
        # and, as documented, a second acknowledgement ("twice is harmless")
        quiet = (
            action == "transfer"
            or (action == "ack" and door.acknowledged_at is not None)
            or (
                action == "agency"
                and any(
                    a.agency_id == form.get("agency") and a.status in ("sent", "accepted")
                    for a in before.agencies
                )
            )
        )
        after = self.world(case.case_id)
        me = self.focal(focal_id)
        rule = may_read if action == "reopen" else may_act
        allowed = rule(me, door, before.case)
        self.log.append(f"{focal_id} {action} {extra} on {case.ref}: {answer.status_code}")
        STATS[f"{action}:{'allowed' if allowed else 'refused'}:{answer.status_code}"] += 1
        if quiet and answer.status_code == 200 and after.audits == before.audits:
            assert after.snapshot() == before.snapshot(), "a quiet answer changed the case"
            STATS[f"quiet {action}: 200, nothing done"] += 1
            return
        self.judge(allowed, answer.status_code, before, after, noop=noop)

    def hand(self, actor: str, pick: int, target: str) -> None:
        case = self.cases[pick % len(self.cases)]
        before = self.world(case.case_id)
        focal_id = self.who(actor, before)
        if focal_id not in self.stack.focal_users:
            return
        client = self.client(focal_id)
        page = client.get("/focal/province")
        self.answered(page)
        csrf = _csrf(client.get("/focal").text)
        target = self.who(target, before)
        answer = client.post(
            "/focal/province/hand", data={"csrf": csrf, "case": case.case_id, "to": target}
        )
        self.answered(answer)
        after = self.world(case.case_id)
        to = self.focal(target)
        allowed = to is not None and may_hand(self.focal(focal_id), before.case, to)
        taken = [r for r in before.live() if r.focal_point_id == target and r.acknowledged_at]
        if taken and answer.status_code == 200:  # "already theirs, and taken": nothing to do
            assert after.snapshot() == before.snapshot(), "handing a taken case changed it"
            STATS["hand to its taker: 200, nothing done"] += 1
            return
        self.log.append(f"{focal_id} hands {case.ref} to {target}: {answer.status_code}")
        STATS[f"hand:{'allowed' if allowed else 'refused'}:{answer.status_code}"] += 1
        self.judge(allowed, answer.status_code, before, after)

    def press(self, agency: str, pick: int, forger: str | None) -> None:
        """``agency`` (or ``forger`` with ``agency``'s button) presses a button of its chat."""
        stack = self.stack
        if agency not in stack.focal_users or (forger or agency) not in stack.focal_users:
            return
        holding = [
            a
            for a in AGENCIES
            if any(m.buttons for m in stack.telegram.sent_messages(stack.focal_users[a]))
            and a in stack.focal_users
        ]
        if agency not in holding and holding:  # someone with buttons presses most often
            agency = holding[pick % len(holding)]
        owner = stack.focal_users[agency]
        buttons = [
            (m.message_id, b["callback_data"])
            for m in stack.telegram.sent_messages(owner)
            for b in m.buttons
            if b.get("callback_data", "").startswith(T.PREFIX + T.AGENCY + ":")
        ]
        if not buttons:
            return
        message_id, data = buttons[pick % len(buttons)]
        presser = forger or agency
        before = {c.case_id: self.world(c.case_id) for c in self.cases}
        update = U.callback_update(stack.focal_users[presser], data, message_id)
        stack.wait_telegram_handled(stack.telegram.inject_update(update))
        stack.wait_sent()
        self.log.append(f"{presser} presses {data} of {agency}")
        STATS["press:forged" if forger not in (None, agency) else "press"] += 1
        if forger is not None and forger != agency:
            for case_id, world in before.items():
                after = self.world(case_id)
                assert after.snapshot() == world.snapshot(), ("forged button changed", data)

    # -- judging ------------------------------------------------------------------------

    def answered(self, response: httpx.Response) -> None:
        assert response.status_code < 500, (response.status_code, response.url)

    def judge(
        self, allowed: bool, status: int, before: World, after: World, *, noop: bool = False
    ) -> None:
        """A refused actor is answered with a refusal and changes nothing; whatever was
        done is audited."""
        if noop:
            assert status == 200 and after.snapshot() == before.snapshot(), "a no-op acted"
            return
        if not allowed:
            assert status in (400, 403), ("a refused actor was answered", status)
        if status != 200:
            assert after.snapshot() == before.snapshot(), "a refusal changed the case"
            done = [a for a in after.audit[before.audits :] if a != "focal.forbidden"]
            assert not done, ("a refusal audited as done", done)
        else:
            done = [a for a in after.audit[before.audits :] if a != "focal.forbidden"]
            assert done, "a done operation without an audit event"

    def check(self) -> None:
        errors = self.stack.errors.since(0)
        assert not errors, errors
        directory = self._directory()
        occupancy: dict[str, int] = {}
        # every bound chat's text once per check (the story's canaries are per walk)
        chats = {
            focal_id: "\n".join(m.text or "" for m in self.sent(user))
            for focal_id, user in self.stack.focal_users.items()
        }
        for reported in self.cases:
            world = self.world(reported.case_id)
            consent = consent_of(world.case)
            for row in world.referrals:
                assert may_receive(consent, directory[row.focal_point_id].role), row
            for row in world.agencies:
                assert may_receive(consent, directory[row.agency_id].role), row
            live = world.live()
            if world.case.status in ("closed", "withdrawn"):
                assert not live, ("a closed case with a live referral", live)
                assert all(p.ended_at is not None for p in world.stays), "a stay outlived"
            else:
                assert len(live) == 1, ("open case without exactly one holder", live)
                assert directory[live[0].focal_point_id].active
            assert sum(p.ended_at is None for p in world.stays) <= 1, "two open stays"
            given = [x for x in (world.case.services or "").split(",") if x]
            assert len(given) == len(set(given)), ("a service counted twice", given)
            served = [a.agency_id for a in world.agencies if a.status == "served"]
            assert len(served) == len(set(served)), ("served twice", served)
            for focal_id, text in chats.items():
                if reported.canary in text:
                    assert may_receive(consent, directory[focal_id].role), (
                        "the story reached",
                        focal_id,
                    )
        for shelter, (now, capacity) in self._shelters().items():
            occupancy[shelter] = now
            base = self.stack.cw_base[shelter]
            assert now == base + self._open_stays(shelter), ("occupancy drifted", shelter)
            if now > base:
                assert now <= capacity, ("placed beyond capacity", shelter)

    def sent(self, user: int) -> list[Any]:
        return self.stack.telegram.sent_messages(user)

    def _directory(self) -> dict[str, FocalPoint]:
        async def read():
            async with transaction(self.stack.store.sessions) as s:
                return {f.id: f for f in (await s.exec(select(FocalPoint))).all()}

        return self.stack.run(read())

    def _shelters(self) -> dict[str, tuple[int, int]]:
        async def read():
            async with transaction(self.stack.store.sessions) as s:
                return {r.id: (r.occupancy, r.capacity) for r in (await s.exec(select(Shelter)))}

        return self.stack.run(read())

    def _open_stays(self, shelter: str | None = None) -> int:
        async def read():
            async with transaction(self.stack.store.sessions) as s:
                query = select(Placement).where(Placement.ended_at.is_(None))
                if shelter is not None:
                    query = query.where(Placement.shelter_id == shelter)
                return len((await s.exec(query)).all())

        return self.stack.run(read())

    def base(self) -> None:
        """Each shelter's occupancy besides open placements, taken once per stack."""
        if getattr(self.stack, "cw_base", None) is None:
            self.stack.cw_base = {
                shelter: now - self._open_stays(shelter)
                for shelter, (now, _) in self._shelters().items()
            }

    def close(self) -> None:
        for client in self.clients.values():
            client.close()


def _csrf(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


orgs = st.lists(st.sampled_from(ORGS), unique=True, max_size=4).map(tuple)
actors = st.sampled_from(("holder",) * 6 + ACTORS)  # the holder most often: cases move
picks = st.integers(0, 31)
extras = st.fixed_dictionaries(
    {},
    optional={
        "text": st.sampled_from(("Chị ổn không?", "Hẹn gặp lúc 9 giờ", "tan lap", "ea kar", "")),
        "outcome": st.sampled_from(("served", *T.OUTCOMES, "bogus")),
        "confirm": st.just("yes"),
        "services": st.sampled_from(T.SERVICES),
        "agency": st.sampled_from((*AGENCIES, "bmt-backup-1")),
        "shelter": st.sampled_from(SHELTERS),
        "commune": st.sampled_from(("list", "24121", "not-a-code")),
        "due": st.sampled_from(("2030-01-01T09:00", "2027-01-01T09:00", "nope")),
        "risk_weapon": st.sampled_from(("yes", "no")),
    },
)


class CaseworkMachine(RuleBasedStateMachine):
    stack: Stack

    def __init__(self) -> None:
        super().__init__()
        self.walk = CaseworkWalk(self.stack)
        self.walk.base()
        STATS["walks"] += 1

    @initialize(first=orgs)
    def first_report(self, first):
        self.walk.report(first)

    @precondition(lambda self: len(self.walk.cases) < 3)
    @rule(agreed=orgs)
    def another_report(self, agreed):
        self.walk.report(agreed)

    @rule(actor=actors, pick=picks, action=st.sampled_from(ACTIONS), extra=extras)
    def inbox(self, actor, pick, action, extra):
        self._step(self.walk.act, actor, pick, action, extra)

    @rule(actor=actors, pick=picks, agency=st.sampled_from(AGENCIES))
    def refer(self, actor, pick, agency):
        self._step(self.walk.act, actor, pick, "agency", {"agency": agency})

    @rule(agency=st.sampled_from(AGENCIES), pick=picks)
    def agency_presses(self, agency, pick):
        self._step(self.walk.press, agency, pick, None)

    @rule(agency=st.sampled_from(AGENCIES), pick=picks, forger=st.sampled_from(AGENCIES))
    def forged_press(self, agency, pick, forger):
        self._step(self.walk.press, agency, pick, forger)

    @rule(actor=actors, pick=picks, to=actors)
    def province_hand(self, actor, pick, to):
        self._step(self.walk.hand, actor, pick, to)

    @rule(pick=picks, outcome=st.sampled_from(("served", *T.OUTCOMES)))
    def holder_closes_or_reopens(self, pick, outcome):
        """Cases cycle: an open one is closed with a reason, a closed one reopened."""
        case = self.walk.cases[pick % len(self.walk.cases)]
        if self.walk.world(case.case_id).case.status == "closed":
            self._step(self.walk.act, "holder", pick, "reopen", {})
        else:
            form = {"outcome": outcome, "confirm": "yes", "services": "medical"}
            self._step(self.walk.act, "holder", pick, "close", form)

    @rule(pick=picks, action=st.sampled_from(ACTIONS), agency=st.sampled_from(AGENCIES))
    def holder_acts(self, pick, action, agency):
        """The holder with a well-formed form (what the inbox's own forms post)."""
        form = {
            "text": "Hẹn gặp lúc 9 giờ" if action != "transfer" else "tan lap",
            "due": (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
            "agency": agency,
            "shelter": "bmt-community",
            "outcome": "served",
            "services": "medical",
            "confirm": "yes",
            "risk_weapon": "yes",
        }
        self._step(self.walk.act, "holder", pick, action, form)

    @invariant()
    def promises_kept(self) -> None:
        self.walk.check()

    def _step(self, do, *args) -> None:
        """Run one step; a broken promise names the walk's last steps."""
        try:
            do(*args)
        except AssertionError as broken:
            raise AssertionError(f"{broken} after: " + " | ".join(self.walk.log[-4:])) from None

    def teardown(self):
        try:
            self.walk.check()
            if os.environ.get("HOTLINE_CW_LOG") == "1":
                print("\n".join(self.walk.log), flush=True)
        finally:
            self.walk.close()


def casework_machine_for(stack: Stack) -> type[CaseworkMachine]:
    return type("CaseworkWalk", (CaseworkMachine,), {"stack": stack})
