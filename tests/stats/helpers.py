"""A synthetic dataset with known counts, written with Core inserts (one data key, no audit).

``SPEC`` is the dataset in plain Python; the tests derive their expectations from it by
simple counting, independent of the SQL under test, and also check hand-computed figures.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from storage.ledger import backfill
from storage.models import Case, FocalPoint, Referral, Shelter
from storage.records import new_data_key

DAK_LAK, GIA_LAI = "66", "52"
A, B, C = "24121", "24133", "24373"  # Đắk Lắk communes
P = "23575"  # Phường Pleiku, Gia Lai
LOCAL = timedelta(hours=7)


def local(y: int, mo: int, d: int, h: int = 12, mi: int = 0) -> datetime:
    """A UTC instant given as Vietnam wall time."""
    return datetime(y, mo, d, h, mi, tzinfo=UTC) - LOCAL


@dataclass
class SynthCase:
    province: str | None
    commune: str | None
    created: datetime
    consent: bool = True
    category: str | None = "physical_assault"
    reporter: str = "survivor"
    channel: str = "telegram"
    age_band: str | None = "18-25"
    sex: str | None = "female"
    disability: bool | None = False
    urgency: str = "normal"
    services: str | None = None
    ethnic_code: str | None = None
    migrant: bool | None = None
    contexts: str | None = None
    # referral: (minutes to acknowledge or None, level reached)
    referral: tuple[int | None, int] | None = None


def build_spec() -> list[SynthCase]:
    cats = ["rape", "physical_assault", "psychological_abuse", "physical_assault"]
    spec: list[SynthCase] = []
    # Commune A: 12 in January, 7 in February (varied dimensions).
    for i in range(12):
        spec.append(
            SynthCase(
                DAK_LAK,
                A,
                local(2026, 1, 1 + i),
                category=cats[i % 4],
                reporter="witness" if i % 3 == 0 else "survivor",
                channel="zalo" if i % 2 else "telegram",
                sex="male" if i == 0 else "female",
                disability=True if i < 2 else False,
                services="medical,psychosocial" if i < 10 else None,
            )
        )
    for i in range(7):
        spec.append(
            SynthCase(DAK_LAK, A, local(2026, 2, 1 + i), age_band="12-17", services="legal",
                      contexts="online,workplace" if i < 6 else "school")
        )  # fmt: skip
    # Commune B: 3 in January (a small cell), 20 in March.
    for i in range(3):
        spec.append(
            SynthCase(DAK_LAK, B, local(2026, 1, 10 + i), urgency="high", services="shelter,police",
                      contexts="trafficking", migrant=True)
        )  # fmt: skip
    # 12 Ê Đê (GSO 12), 8 Kinh; the last 3 migrants
    for i in range(20):
        spec.append(
            SynthCase(DAK_LAK, B, local(2026, 3, 1 + i), channel="web", services="information",
                      ethnic_code="12" if i < 12 else "01", migrant=i >= 17)
        )  # fmt: skip
    # Commune C: 9 in March, unknown age and sex.
    for i in range(9):
        spec.append(
            SynthCase(
                DAK_LAK,
                C,
                local(2026, 3, 2 + i),
                age_band=None,
                sex=None,
                disability=None,
                services="medical",
            )
        )
    # Gia Lai: 6 in January, 2 in December; one just past the year's end (local time).
    for i in range(6):
        spec.append(SynthCase(GIA_LAI, P, local(2026, 1, 5 + i), services="medical"))
    # two Jrai (GSO 10), with no service yet
    spec.append(SynthCase(GIA_LAI, P, local(2026, 12, 31, 23, 30), ethnic_code="10"))
    spec.append(SynthCase(GIA_LAI, P, local(2026, 12, 1), ethnic_code="10", migrant=False))
    spec.append(SynthCase(GIA_LAI, P, local(2027, 1, 1, 0, 30)))  # outside the period
    spec.append(SynthCase(GIA_LAI, P, local(2025, 12, 31, 23, 59)))  # outside the period
    # No consent to statistics: never counted.
    for _ in range(10):
        spec.append(
            SynthCase(
                DAK_LAK,
                A,
                local(2026, 1, 15),
                consent=False,
                services="medical",
                referral=(1, 0),
                urgency="immediate",
            )
        )
    # Referrals on immediate-danger cases in commune B (March): known delays and rungs.
    delays = [(2, 0), (4, 0), (6, 1), (8, 0), (12, 1), (30, 2), (None, 3)]
    for k, r in enumerate(delays):
        spec[12 + 7 + 3 + k].urgency = "immediate"
        spec[12 + 7 + 3 + k].referral = r
    # Referrals on normal cases in commune A (January): within a day, and one late.
    for k, r in enumerate([(60, 0), (600, 0), (1440, 0), (1441, 1), (3000, 2)]):
        spec[k].referral = r
    return spec


SPEC_PERIOD = ("2026-01-01", "2026-12-31")
SATURDAY = local(2026, 11, 28, 10)  # offices closed


async def seed(session, vault, spec: list[SynthCase]) -> None:
    key_id, _aead = await new_data_key(session, vault)
    cases, referrals = [], []
    for i, s in enumerate(spec):
        case_id = secrets.token_hex(16)
        cases.append(dict(
            id=case_id, ref=f"S-{i:06d}", data_key_id=key_id, created_at=s.created,
            updated_at=s.created, channel=s.channel, reporter=s.reporter, place_scheme="2025",
            province_code=s.province, commune_code=s.commune, category=s.category,
            urgency=s.urgency, age_band=s.age_band, sex=s.sex, disability=s.disability,
            status="closed" if s.services else "new", escalation_level=0,
            consent_referral=True, consent_stats=s.consent,
            consent_stats_at=s.created, services=s.services, ethnic_code=s.ethnic_code,
            migrant=s.migrant, contexts=s.contexts,
        ))  # fmt: skip
        if s.referral is not None:
            minutes, level = s.referral
            ack = None if minutes is None else s.created + timedelta(minutes=minutes, seconds=20)
            referrals.append(dict(
                id=secrets.token_hex(16), case_id=case_id, focal_point_id="fp-a", status="notified",
                level=level, created_at=s.created, notified_at=s.created, acknowledged_at=ack,
            ))  # fmt: skip
    fps = [
        dict(id="fp-a", commune_code=A, role="primary", duty_hours="24/7", active=True),
        dict(
            id="fp-b", commune_code=B, role="primary", duty_hours="Mon-Fri 07:30-17:00", active=True
        ),
        dict(id="fp-c", commune_code=C, role="primary", duty_hours="24/7", active=False),
        dict(id="desk-66", commune_code=A, role="province_desk", duty_hours="24/7", active=True),
    ]
    for fp in fps:
        fp.update(
            data_key_id=key_id,
            place_scheme="2025",
            province_code=DAK_LAK,
            languages="vi",
            updated_at=SATURDAY,
        )
    shelters = [
        dict(
            id="sh-a",
            province_code=DAK_LAK,
            commune_code=A,
            kind="trusted_address",
            capacity=10,
            occupancy=3,
        ),
        dict(
            id="sh-p",
            province_code=GIA_LAI,
            commune_code=P,
            kind="community_shelter",
            capacity=8,
            occupancy=6,
        ),
    ]
    for sh in shelters:
        sh.update(
            data_key_id=key_id,
            place_scheme="2025",
            accepts_children=False,
            wheelchair_accessible=False,
            languages="vi",
            updated_at=SATURDAY,
        )
    await session.exec(insert(FocalPoint), params=fps)
    await session.exec(insert(Shelter), params=shelters)
    for start in range(0, len(cases), 1000):
        await session.exec(insert(Case), params=cases[start : start + 1000])
    if referrals:
        await session.exec(insert(Referral), params=referrals)
    # Rows written behind the real paths' backs: the ledger learns of them as the
    # migration's backfill of stored cases does.
    await session.run_sync(lambda sync: backfill(sync.connection()))


def seed_database(url: str, source) -> None:
    """Write ``build_spec()`` into the database at ``url`` (for tests of the CLI, which opens
    the store itself)."""
    import asyncio

    from storage.db import transaction
    from storage.store import open_store

    async def prepare() -> None:
        store = await open_store(url, source)
        try:
            async with transaction(store.sessions) as session:
                await seed(session, store.vault, build_spec())
        finally:
            await store.close()

    asyncio.run(prepare())
