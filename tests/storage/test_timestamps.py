"""Plaintext times are coarse and never equal across tables (issue 23): a copy of the
database cannot join a case, its receipt, its audit events and its consents on a shared
instant, and says no more about when than routing and statistics need."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from storage import cases
from storage.db import transaction
from storage.models import AuditEvent, Case, DataKey, Receipt

# Just after midnight, with seconds and microseconds: a minute-precision time here is also
# the day's start, where a day-precision time would fall.
AT = datetime(2026, 11, 25, 0, 0, 41, 123456, tzinfo=UTC)


async def test_a_new_cases_times_are_coarse_and_never_equal_across_tables(store):
    async with transaction(store.sessions) as session:
        new = cases.NewCase(
            channel="web",
            reporter="survivor",
            consent_referral=True,
            consent_stats=True,
            sealed={"narrative": "x"},
        )
        case, _code = await cases.create_case(session, store.vault, new, now=AT)
    async with transaction(store.sessions) as session:
        row = (await session.exec(select(Case).where(Case.id == case.id))).one()
        groups = {
            "cases": {row.created_at, row.updated_at},
            "consent": {row.consent_referral_at, row.consent_orgs_at, row.consent_stats_at},
            "receipts": set(
                await session.exec(select(Receipt.created_at).where(Receipt.case_id == case.id))
            ),
            "audit_events": set(
                await session.exec(select(AuditEvent.at).where(AuditEvent.case_id == case.id))
            ),
            "data_keys": set(
                await session.exec(select(DataKey.created_at).where(DataKey.id == case.data_key_id))
            ),
        }
    assert all(len(values) >= 1 for values in groups.values()), groups
    names = list(groups)
    for index, first in enumerate(names):
        for second in names[index + 1 :]:
            assert not groups[first] & groups[second], (first, second, groups)

    def coarse(value: datetime, *, minute: bool) -> bool:
        """Floored to the minute (or the day), plus a mark of a few whole seconds."""
        floored = value.microsecond == 0 and value.second < 10
        return floored and (minute or value.hour == value.minute == 0)

    assert all(coarse(value, minute=True) for value in groups["cases"] | groups["audit_events"])
    for name in ("consent", "receipts", "data_keys"):
        assert all(coarse(value, minute=False) for value in groups[name]), name
    assert {
        value.date() for name in ("cases", "consent", "receipts") for value in groups[name]
    } == {AT.date()}
