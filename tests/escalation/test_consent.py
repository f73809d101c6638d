"""Consent at every rung (issue #18 finding 1): every combination of the organisations a
survivor may tick, climbed through every rung with the production notifier, on SQLite and
PostgreSQL. Police desks see a case only when she ticked the police; a rung whose only
people she did not agree to is skipped, and the climb goes on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import combinations

import pytest
from sqlmodel import select

from routing.consent import ORGANISATIONS, Consent, Share, share_with
from storage import outbox
from storage.db import transaction
from storage.escalation import tick
from storage.models import OutboxMessage, Referral
from tests.escalation.helpers import (
    OTHER_COMMUNE,
    add_focal_point,
    add_ladder,
    add_referral,
    production_notifier,
)

T0 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # Monday 09:00 in Vietnam
M = timedelta(minutes=1)
EVERY_CONSENT = [
    frozenset(c) for n in range(len(ORGANISATIONS) + 1) for c in combinations(ORGANISATIONS, n)
]
ROLES = ("primary", "backup", "commune_leadership", "police_desk", "province_desk")


@pytest.mark.parametrize("orgs", EVERY_CONSENT, ids=lambda o: "+".join(sorted(o)) or "none")
@pytest.mark.parametrize("role", ROLES)
def test_the_rule(orgs, role):
    shared = share_with(Consent(True, orgs), role)
    assert (shared is Share.CARD) == (role != "police_desk" or "police" in orgs)
    assert share_with(Consent(False, orgs), role) is Share.NOTHING


async def test_every_rung_times_every_consent(store):
    async with transaction(store.sessions) as session:
        await add_ladder(session, store.vault)  # chats 1000 primary … 1003 police, 1004 desk
        # a commune whose third rung is the police desk alone: skipped without consent
        await add_focal_point(session, store.vault, "o-primary", "primary",
                              commune=OTHER_COMMUNE, chat_id=2000)  # fmt: skip
        await add_focal_point(session, store.vault, "o-backup", "backup",
                              commune=OTHER_COMMUNE, chat_id=2001)  # fmt: skip
        await add_focal_point(session, store.vault, "o-police", "police_desk",
                              commune=OTHER_COMMUNE, chat_id=2003)  # fmt: skip
        cases = {}
        for orgs in EVERY_CONSENT:
            for commune, first in (("24121", "primary"), (OTHER_COMMUNE, "o-primary")):
                case, referral = await add_referral(
                    session, store.vault, now=T0, commune=commune, focal_point_id=first,
                    consent_orgs=",".join(sorted(orgs)) or None,
                )  # fmt: skip
                cases[case.ref] = (orgs, commune, referral.id)
    notifier = production_notifier(store)
    for minute in range(5, 45, 5):
        await tick(store.sessions, now=T0 + minute * M, worker_id="w", notifier=notifier,
                   keyring=store.keyring)  # fmt: skip

    got: dict[str, set[int]] = {ref: set() for ref in cases}
    async with store.sessions() as session:
        for row in (await session.exec(select(OutboxMessage))).all():
            payload = await outbox.payload_of(session, store.vault, row)
            for ref in cases:
                if ref in payload.get("text", ""):
                    got[ref].add(payload["chat_id"])
        levels = {r.id: (r.focal_point_id, r.level) for r in (await session.exec(select(Referral)))}
    for ref, (orgs, commune, referral_id) in cases.items():
        police = "police" in orgs
        if commune == "24121":
            expected = {1000, 1001, 1002, 1004} | ({1003} if police else set())
        else:
            expected = {2000, 2001, 1004} | ({2003} if police else set())
        assert got[ref] == expected, (sorted(orgs), commune)
        assert levels[referral_id] == ("province_desk", 3)


def test_the_agreement_screen_says_what_the_rule_does():
    """who.sees names the hotline's own people as covered by the referral, and the police
    as receiving only on "Police" (and nothing otherwise): the rule's only organisation
    among the focal point roles is the police desk's."""
    from dialogs.i18n import translator
    from routing.consent import ORGANISATION_OF_ROLE
    from routing.directory import AGENCY_ROLES

    ladder = {role: org for role, org in ORGANISATION_OF_ROLE.items() if role not in AGENCY_ROLES}
    assert {role for role, org in ladder.items() if org} == {"police_desk"}
    # agencies are referred to by a focal point, each only with her consent to its kind
    assert all(ORGANISATION_OF_ROLE[role] for role in AGENCY_ROLES)
    vi, en = translator("vi").gettext("who.sees"), translator("en").gettext("who.sees")
    assert 'Công an chỉ nhận báo cáo nếu bạn chọn "Công an"' in vi
    assert "công an không được báo gì cả" in vi
    assert 'The police receive it only if you choose "Police"' in en
    assert translator("vi").gettext("org.police") == "Công an"
