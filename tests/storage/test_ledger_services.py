"""storage.ledger.served_rows: each service counts once per report, whoever records it."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from storage.ledger import ANY_SERVICE, served_rows

AT = datetime(2026, 3, 1, 9, tzinfo=UTC)


def _case(services: str | None = None, counted: bool = True) -> SimpleNamespace:
    return SimpleNamespace(services=services, consent_stats=counted, created_at=AT,
                           urgency="high", province_code="66", contexts=None)  # fmt: skip


def _served(rows: list[dict]) -> list[str]:
    return [r["service"] for r in rows]


def test_the_first_service_of_a_report_also_counts_it_as_reached():
    case = _case()
    assert _served(served_rows(case, ["medical"], at=AT)) == [ANY_SERVICE, "medical"]
    assert case.services == "medical"


def test_a_service_recorded_again_is_not_counted_again():
    case = _case("medical")
    rows = served_rows(case, ["medical", "shelter", "shelter"], at=AT)
    assert _served(rows) == ["shelter"]
    assert case.services == "medical,shelter"
    assert served_rows(case, ["shelter", "medical"], at=AT) == []


def test_nothing_reached_writes_nothing():
    case = _case()
    assert served_rows(case, [], at=AT) == []
    assert case.services is None


def test_an_uncounted_report_keeps_its_services_but_rows_carry_no_attributes():
    case = _case(counted=False)
    rows = served_rows(case, ["legal"], at=AT)
    assert case.services == "legal"
    assert all(not r["counted"] and "service" not in r for r in rows)
