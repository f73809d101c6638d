"""Every province has a last rung, and no referral waits on a rung for ever (issue #17
finding 4: with no province desk the log said "the referral waits on its rung" and the
case stayed there). The import refuses such a directory unless a national fallback desk is
named (tests/routing/test_csv_import.py); here, the ladder ends on that desk, and over
every shape of commune ladder every open referral always has a next deadline."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from itertools import combinations

from sqlalchemy import exists
from sqlmodel import select

from routing.ladder import LadderConfig
from storage.db import transaction
from storage.escalation import tick
from storage.models import EscalationDeadline, OutboxMessage, Referral
from tests.escalation.helpers import add_focal_point, add_referral, production_notifier

T0 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # Monday 09:00 in Vietnam
OFFICE = "Mon-Fri 07:30-17:00"
LOWER = ("primary", "backup", "commune_leadership", "police_desk")


async def test_a_province_without_a_desk_climbs_to_the_national_desk(store):
    config = LadderConfig(national_desk="national")
    async with transaction(store.sessions) as session:
        await add_focal_point(session, store.vault, "national", "province_desk",
                              commune=None, province="01", chat_id=9001)  # fmt: skip
        await add_focal_point(session, store.vault, "lonely", "primary",
                              commune="24121", province="66", chat_id=9002)  # fmt: skip
        _, referral = await add_referral(
            session, store.vault, now=T0, focal_point_id="lonely", config=config
        )
    await tick(store.sessions, now=T0 + timedelta(minutes=10), worker_id="w",
               notifier=production_notifier(store), keyring=store.keyring,
               config=config)  # fmt: skip
    async with store.sessions() as session:
        after = await session.get(Referral, referral.id)
        queued = (await session.exec(select(OutboxMessage))).all()
    assert (after.focal_point_id, after.level) == ("national", 3)
    assert len(queued) == 1  # the national desk's card


async def test_a_province_with_nobody_climbs_to_the_home_desk_without_a_national_one(store, caplog):
    """Matching sends a report from a province with nobody in the directory (Hà Nội, in a
    Đắk Lắk directory) to the home province's desk; climbing its ladder found no desk,
    logged an error at every deadline and never moved (seen by the random walk)."""
    config = LadderConfig()
    async with transaction(store.sessions) as session:
        await add_focal_point(session, store.vault, "dl-desk", "province_desk",
                              commune=None, province="66", chat_id=9001)  # fmt: skip
        await add_focal_point(session, store.vault, "dl-primary", "primary",
                              commune="24121", province="66", chat_id=9002)  # fmt: skip
        _, referral = await add_referral(session, store.vault, now=T0, focal_point_id="dl-desk",
                                         commune="00004", province="01",
                                         config=config)  # fmt: skip
    with caplog.at_level(logging.ERROR):
        await tick(store.sessions, now=T0 + timedelta(minutes=10), worker_id="w",
                   notifier=production_notifier(store), keyring=store.keyring,
                   config=config)  # fmt: skip
    async with store.sessions() as session:
        after = await session.get(Referral, referral.id)
        pending = (await session.exec(select(EscalationDeadline).where(
            EscalationDeadline.referral_id == referral.id,
            EscalationDeadline.state == "pending"))).all()  # fmt: skip
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert (after.focal_point_id, after.level) == ("dl-desk", 3)
    assert pending  # and it goes on climbing (the desk's repeats)


async def test_every_open_referral_always_has_a_next_deadline(store):
    """Every subset of the commune's roles, office hours or 24/7, with a province desk, only
    the national fallback, or (a directory the import refuses) neither."""
    config = LadderConfig(national_desk="national")
    shapes = [
        (roles, hours, last)
        for n in range(len(LOWER) + 1)
        for roles in combinations(LOWER, n)
        for hours in ("24/7", OFFICE)
        for last in ("desk", "national", "none")
    ]
    shape_of: dict[str, int] = {}
    async with transaction(store.sessions) as session:
        await add_focal_point(session, store.vault, "national", "province_desk",
                              commune=None, province="999", chat_id=1)  # fmt: skip
        for i, (roles, hours, last) in enumerate(shapes):
            province, commune = f"9{i:02d}", f"9{i:04d}"
            for role in roles:
                await add_focal_point(session, store.vault, f"{i}-{role}", role, hours=hours,
                                      commune=commune, province=province)  # fmt: skip
            if last == "desk":
                await add_focal_point(session, store.vault, f"{i}-desk", "province_desk",
                                      commune=None, province=province, hours=hours)  # fmt: skip
            # first routing put it where matching found someone (or the first rung)
            first = f"{i}-{roles[0]}" if roles else ("national" if last != "desk" else f"{i}-desk")
            for urgency in ("immediate", "normal"):
                _, referral = await add_referral(session, store.vault, now=T0, urgency=urgency,
                                   focal_point_id=first, commune=commune, province=province,
                                   consent_orgs="police" if i % 2 else None,
                                   config=config)  # fmt: skip
                shape_of[referral.id] = i
    stranded = select(Referral.id).where(
        Referral.status.in_(("new", "notified")),
        ~exists().where(
            EscalationDeadline.referral_id == Referral.id,
            EscalationDeadline.state == "pending",
        ),
    )
    notifier = production_notifier(store)
    now = T0
    while now <= T0 + timedelta(days=3):
        await tick(store.sessions, now=now, worker_id="w", notifier=notifier,
                   keyring=store.keyring, config=config)  # fmt: skip
        async with store.sessions() as session:
            assert (await session.exec(stranded)).all() == [], now
            late = select(EscalationDeadline.id).where(
                EscalationDeadline.state == "pending", EscalationDeadline.due_at <= now
            )
            assert (await session.exec(late)).all() == []  # all due ones were applied
        now += timedelta(minutes=30)
    async with store.sessions() as session:
        ends = {r.id: (r.focal_point_id, r.level) for r in await session.exec(select(Referral))}
    # nobody acknowledged: after three days every case sits on its province's last rung
    for referral_id, i in shape_of.items():
        last = shapes[i][2]
        if last == "desk":
            assert ends[referral_id] == (f"{i}-desk", 3)
        elif last == "national":
            assert ends[referral_id] == ("national", 3)
