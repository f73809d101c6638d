"""Directory upkeep on the web, end to end: the province desk adds a focal point on its
directory page, issues an invite (shown once), the new focal point redeems it in chat
(the fake Bot API) and receives the next case of its commune; deactivating the focal
point who held a case hands that case on; a desk of another province, or a commune
focal point, cannot touch the directory; a CSV import does not bring the deactivated
back; every change is audited."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from dialogs.i18n import translator
from routing.csv_import import parse_directory_csv
from routing.data import daklak_sample_paths
from storage.db import transaction
from storage.directory_store import upsert_directory
from storage.ledger import DEFAULT_SLA_MINUTES, local_day
from storage.models import AuditEvent, FocalPoint, StatsLedger
from storage.records import data_key_of, open_from
from storage.stats import Period, collect
from tests.e2e.test_province_view import _live_referral, _report, _signed_in
from tests.fakes import updates as U
from tests.walk.stack import Stack

DESK = "dl-desk-bmt"
CODE = re.compile(r"\d{5}-\d{5}")
NEW_NAME = "Chị Mới – Phường Buôn Ma Thuột"
NEW_USER = 738_000_990_001
FORM = {
    "new": "yes", "display_name": NEW_NAME, "role": "primary", "commune_code": "24133",
    "phone": "0262 0000 077", "languages": "vi,rad", "duty_hours": "24/7",
    "lat": "12.6702", "lon": "108.0441",
}  # fmt: skip


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with Stack(Path(tmp_path_factory.mktemp("directory"))) as running:
        yield running


def _csrf(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def _row(stack: Stack, focal_id: str) -> FocalPoint:
    async def read():
        async with transaction(stack.store.sessions) as session:
            return await session.get(FocalPoint, focal_id)

    return stack.run(read())


def _by_name(stack: Stack, name: str) -> FocalPoint:
    async def read():
        async with transaction(stack.store.sessions) as session:
            for row in (await session.exec(select(FocalPoint))).all():
                key = await data_key_of(session, stack.store.vault, row)
                if open_from(stack.store.vault, key, row, "display_name") == name:
                    return row
        return None

    return stack.run(read())


def _actions(stack: Stack, actor: str) -> list[str]:
    async def read():
        async with transaction(stack.store.sessions) as session:
            query = select(AuditEvent.action).where(AuditEvent.actor_id == actor)
            return list((await session.exec(query)).all())

    return stack.run(read())


def _escalate_now(stack: Stack) -> None:
    """The escalation worker's next tick, run now (it would run within its interval)."""
    stack.run(stack.runtime.escalations.run_once())
    stack.wait_sent()


def test_a_focal_point_added_on_the_web_is_invited_bound_and_routed_to(stack):
    held = _report(stack)  # a case held by one of Buôn Ma Thuột's focal points now
    holder = _live_referral(stack, held).focal_point_id
    desk = _signed_in(stack, DESK)
    page = desk.get("/focal/directory").text
    assert f'data-id="{holder}"' in page

    # added on the web: stored with its name and phone sealed, audited
    answer = desk.post("/focal/directory/person", data={**FORM, "csrf": _csrf(page)})
    assert answer.status_code == 200 and NEW_NAME in answer.text
    added = _by_name(stack, NEW_NAME)
    assert added is not None and added.active and added.province_code == "66"
    assert NEW_NAME.encode() not in (added.display_name or b"")  # sealed

    # an invite shown once; redeemed in chat, it binds the new focal point
    answer = desk.post("/focal/directory/invite", data={"csrf": _csrf(page), "id": added.id})
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    code = CODE.search(answer.text).group(0)
    assert translator("vi").gettext("webd.invite_once", days=3) in answer.text
    update_id = stack.telegram.inject_update(U.command_update(NEW_USER, f"/focal {code}"))
    stack.wait_telegram_handled(update_id)
    stack.wait_sent()
    assert _row(stack, added.id).identity_key is not None
    assert added.id in (stack.telegram.sent_messages(NEW_USER)[-1].text or "")

    # the holder of the open case deactivated: the case handed on, the holder unbound
    page = desk.get("/focal/directory").text
    answer = desk.post(
        "/focal/directory/deactivate", data={"csrf": _csrf(page), "id": holder, "sure": "on"}
    )
    assert answer.status_code == 200
    gone = _row(stack, holder)
    assert not gone.active and gone.revoked_at is not None and gone.identity_key is None
    _escalate_now(stack)
    assert _live_referral(stack, held).focal_point_id != holder

    # the next case of the commune reaches the new focal point, in its chat
    case = _report(stack)
    assert _live_referral(stack, case).focal_point_id == added.id
    stack.wait_sent()
    assert any(case.ref in (m.text or "") for m in stack.telegram.sent_messages(NEW_USER))

    # a CSV import brings no deactivated focal point back
    async def reimport() -> None:
        result = parse_directory_csv(*daklak_sample_paths())
        async with transaction(stack.store.sessions) as session:
            await upsert_directory(
                session, stack.store.vault, list(result.focal_points), [],
                now=datetime.now(UTC),
            )  # fmt: skip

    stack.run(reimport())
    assert not _row(stack, holder).active
    assert {
        "directory.viewed", "directory.person_added", "directory.invite_issued",
        "directory.person_deactivated",
    } <= set(_actions(stack, DESK))  # fmt: skip
    desk.close()


def test_only_the_provinces_desk_keeps_its_directory(stack):
    other = _signed_in(stack, "bmt-backup-1")
    assert other.get("/focal/directory").status_code == 403
    page = other.get("/focal").text
    answer = other.post(
        "/focal/directory/person", data={**FORM, "csrf": _csrf(page), "display_name": "X"}
    )
    assert answer.status_code == 403 and _by_name(stack, "X") is None
    other.close()

    desk = _signed_in(stack, DESK)
    page = desk.get("/focal/directory").text
    forged = desk.post(
        "/focal/directory/deactivate", data={"csrf": "forged", "id": "bmt-leadership"}
    )
    assert forged.status_code == 403 and _row(stack, "bmt-leadership").active
    # a commune of another province is refused by the same rule
    elsewhere = desk.post(
        "/focal/directory/person",
        data={**FORM, "csrf": _csrf(page), "commune_code": "00070", "display_name": "Y"},
    )
    assert elsewhere.status_code == 400 and _by_name(stack, "Y") is None
    desk.close()


def test_take_overs_and_reassignments_are_in_the_statistics_ledger(stack):
    case = _report(stack)
    assert case.consent_stats  # she agreed to be counted
    waiting = _live_referral(stack, case)
    assert waiting.acknowledged_at is None
    desk = _signed_in(stack, DESK)
    page = desk.get("/focal/province").text
    hand = {"csrf": _csrf(page), "case": case.id}
    assert desk.post("/focal/province/hand", data={**hand, "to": "bmt-backup-1"}).status_code == 200
    backup = _live_referral(stack, case)  # on the backups' rung, not answered yet
    assert backup.focal_point_id == "bmt-backup-1" and backup.acknowledged_at is None
    assert desk.post("/focal/province/hand", data={**hand, "to": DESK}).status_code == 200
    desk.close()

    async def read():
        async with transaction(stack.store.sessions) as session:
            rows = (await session.exec(select(StatsLedger))).all()
            period = Period(local_day(case.created_at), local_day(case.created_at), "66")
            agg = await collect(
                session, period, at=datetime.now(UTC), sla_minutes=DEFAULT_SLA_MINUTES
            )
            return rows, agg

    rows, agg = stack.run(read())
    handed = sorted(
        (r.event, r.level_from) for r in rows if r.event in ("reassigned", "taken_over")
    )
    # each took away a referral no one had acknowledged, from the rung it rested on
    assert handed == [("reassigned", waiting.level), ("taken_over", backup.level)]
    assert all(r.counted and r.province_code == "66" for r in rows if r.event == "taken_over")
    # this case's referrals no longer count as waiting on a rung: only earlier cases' might
    waiting_now = sum(n for (u, _lvl, minutes, _w), n in agg.referrals.items() if minutes is None)
    referred = sum(1 for r in rows if r.event == "referred")
    acknowledged = sum(1 for r in rows if r.event == "acknowledged")
    taken = sum(
        1 for r in rows if r.event in ("reassigned", "taken_over") and r.level_from is not None
    )
    assert waiting_now == referred - acknowledged - taken
