"""Issue #20, done when: reports made over two years through the real path, acknowledged,
served, closed and deleted by retention; both years' statistics (JSON, CSV and XLSX) are
the same after the deletion as before, because reports read only the statistics ledger.

Over the fake Bot API: survivors report on Telegram (one declines to be counted, one sends
a danger alert, which never asks), focal points acknowledge and close with services."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, text
from sqlmodel import select

from bot.admin.export import compute_report, render, sla_from_settings, yearly_period
from dialogs import focal_texts
from dialogs.i18n import translator
from routing.matching import match_focal_point
from storage.db import transaction
from storage.models import Case, Referral, StatsLedger
from storage.stats import collect
from tests.dialogs.helpers import DANGER_SKIPPED
from tests.e2e.driver import TelegramPerson
from tests.e2e.test_focal import BMT, OFFICE_HOURS, bind, runtime

__all__ = ["runtime"]  # the fixture, shared with test_focal

SURVIVORS = 738_000_900_000
FOCAL = 738_000_900_900
DESK = 738_000_900_901
HOME_DESK = "dl-desk-bmt"  # the sample directory's 24/7 desk of Đắk Lắk
VI = translator("vi")
GENERATED = datetime(2027, 9, 1, 3, 0, tzinfo=UTC)  # one "now" for every run of the reports


def local(y: int, mo: int, d: int) -> datetime:
    return datetime(y, mo, d, 3, 0, tzinfo=UTC)  # 10:00 in Vietnam


# (when, counted?, danger alert?)
REPORTS = [
    (local(2025, 3, 10), True, False),
    (local(2025, 11, 20), True, False),
    (local(2026, 2, 12), True, False),
    (local(2026, 6, 1), True, False),
    (local(2026, 7, 9), False, False),
    (local(2026, 8, 30), False, True),
]


async def report(person: TelegramPerson, *, counted: bool) -> None:
    """As tests.e2e.test_focal.report_from_buon_ma_thuot, with the statistics answer."""
    person.command("/start")
    await person.tap("safe")
    await person.tap("me")
    await person.tap("phys")
    await person.tap("done", same_screen=True)
    await person.tap("partner")
    await person.tap("72h")
    for code in DANGER_SKIPPED:
        await person.tap(code)
    person.say("buon ma thuot")
    await person.tap("c0")
    for code in ("a26", "f", "n", "ede", "n"):
        await person.tap(code)
    await person.tap("shelter")
    await person.tap("done", same_screen=True)
    await person.tap("y")  # share with the people who can help
    await person.tap("health")
    await person.tap("done", same_screen=True)
    await person.tap("y" if counted else "n")  # counted in the anonymous statistics
    await person.tap("chat")
    person.say("CANARY-STORY He hit me again.")
    await person.tap("done")
    await person.tap("done")
    await person.tap("send")
    await person.receipt_code()


async def alert(person: TelegramPerson) -> None:
    person.command("/start")
    await person.tap("danger")
    person.say(VI.gettext("opt.skip"))
    await person.tap("me")  # "Tôi – gửi báo động"
    await person.receipt_code()


async def acknowledge_and_close(focal: TelegramPerson, case: Case, referral: Referral,
                                services: list[str]) -> None:  # fmt: skip
    await focal.tap_global(focal_texts.data(focal_texts.ACK, referral.id))
    await focal.wait_text(focal_texts.text("vi", "focal.acked", ref=case.ref))
    await focal.tap_global(focal_texts.data(focal_texts.CLOSE, referral.id))
    for k, service in enumerate(services, start=1):
        await focal.tap_global(focal_texts.data("sv", referral.id, service))

        def ticked(n=k):  # the edited question shows the services ticked so far
            return any(
                sum(str(b.get("text", "")).startswith("✓") for b in m.buttons) == n
                and any(referral.id in str(b.get("callback_data")) for b in m.buttons)
                for m in focal.visible()
            )

        await focal.fake.async_wait_for(ticked, 20)
    await focal.tap_global(focal_texts.data("done", referral.id))
    await focal.wait_text(focal_texts.text("vi", "focal.closed", ref=case.ref))


def xlsx_values(data: bytes) -> dict[str, list[tuple]]:
    """Every sheet's cell values (the file's own timestamps aside)."""
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True)
    return {ws.title: [tuple(row) for row in ws.iter_rows(values_only=True)] for ws in book}


async def exports(runtime, year: int) -> dict[str, object]:
    report = await compute_report(
        runtime.store, yearly_period(year), sla_minutes=sla_from_settings(runtime.settings),
        now=GENERATED, actor_role="cli",
    )  # fmt: skip
    async with transaction(runtime.store.sessions) as session:
        agg = await collect(session, yearly_period(year), at=GENERATED,
                            sla_minutes=sla_from_settings(runtime.settings))  # fmt: skip
    return {
        "json": render(report, "json"),
        "csv": render(report, "csv"),
        "xlsx": xlsx_values(render(report, "xlsx")),
        # the raw counts too: the published ones hide 1-4 as "<5"
        "raw": (agg.by_place_month, agg.by_dimension, agg.services, agg.referrals, agg.uncounted),
    }


async def test_two_years_of_statistics_survive_retention(runtime, fake_bot_api):
    expected = match_focal_point(
        runtime.directory, commune_code=BMT, language="vi", now=OFFICE_HOURS
    )
    focal = await bind(runtime, fake_bot_api, FOCAL, expected.focal_point.id)
    desk = await bind(runtime, fake_bot_api, DESK, HOME_DESK)
    for k, (when, counted, danger) in enumerate(REPORTS):
        runtime.hotline.clock = lambda when=when: when
        person = TelegramPerson(fake_bot_api, SURVIVORS + k)
        await (alert(person) if danger else report(person, counted=counted))

    async with transaction(runtime.store.sessions) as session:
        pairs = (await session.exec(
            select(Case, Referral).join(Referral, Referral.case_id == Case.id)
            .order_by(Case.created_at)
        )).all()  # fmt: skip
    assert len(pairs) == len(REPORTS)
    for k, (case, referral) in enumerate(pairs):
        who = desk if referral.focal_point_id == HOME_DESK else focal
        await acknowledge_and_close(who, case, referral, ["medical", "legal"][: 1 + k % 2])

    before = {year: await exports(runtime, year) for year in (2025, 2026)}
    by_place_month, by_dimension, services, referrals, uncounted = before[2025]["raw"]
    assert sum(by_place_month.values()) == 2 and services["66"]["any"] == 2
    assert services["66"]["medical"] == 2 and services["66"]["legal"] == 1
    assert sum(referrals.values()) == 2 and not uncounted
    by_place_month, by_dimension, services, referrals, uncounted = before[2026]["raw"]
    assert sum(by_place_month.values()) == 2 and services["66"]["any"] == 2
    # Declined, and a danger alert (which never asks): one total by urgency, nothing more.
    assert sum(uncounted.values()) == 2 and uncounted.get("immediate") == 1
    assert sum(referrals.values()) == 2  # the uncounted ones' referrals are not tallied

    async with transaction(runtime.store.sessions) as session:
        last = max((await session.exec(select(Case.retain_until))).all())
    assert await runtime.casework.retention_round(now=last + timedelta(minutes=1)) == len(REPORTS)
    async with transaction(runtime.store.sessions) as session:
        assert (await session.exec(select(func.count()).select_from(Case))).one() == 0
        assert (await session.exec(select(func.count()).select_from(Referral))).one() == 0
        assert (await session.exec(select(func.count()).select_from(StatsLedger))).one() > 0

    after = {year: await exports(runtime, year) for year in (2025, 2026)}
    for year in (2025, 2026):
        for fmt in ("json", "csv", "xlsx", "raw"):
            assert after[year][fmt] == before[year][fmt], (year, fmt)


async def test_the_ledger_holds_nothing_that_leads_back_to_a_case(runtime, fake_bot_api):
    person = TelegramPerson(fake_bot_api, SURVIVORS + 50)
    runtime.hotline.clock = lambda: local(2026, 4, 2)
    await report(person, counted=True)
    async with transaction(runtime.store.sessions) as session:
        case = (await session.exec(select(Case))).one()
        rows = (await session.exec(select(StatsLedger))).all()
    assert {r.event for r in rows} == {"created", "referred"}
    values = {str(v) for r in rows for v in r.model_dump().values()}
    for identifier in (case.id, case.ref, case.data_key_id, str(case.created_at)):
        assert identifier not in values
    for r in rows:
        assert len(r.id) == 32 and r.id != case.id  # a random UUID, not a sequence
        assert str(r.day) == "2026-04-02" and str(r.opened) == "2026-04-02"
    # SQLite numbers a table's rows 1, 2, 3… in insertion order; the ledger's are random.
    async with runtime.store.engine.connect() as conn:
        assert runtime.store.engine.dialect.name == "sqlite"
        rowids = (await conn.execute(text("SELECT rowid FROM stats_ledger"))).scalars().all()
        cases = (await conn.execute(text("SELECT rowid FROM cases"))).scalars().all()
    assert len(rowids) == 2 and cases == [1]
    assert min(rowids) > 2**32  # (a chance of 1 in 2**30 to fail by luck)
