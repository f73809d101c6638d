"""The web chat's JSON API and the focal inbox: an urgent alert or a report with the place
skipped, a location shared and then a commune confirmed (each answered 500 before), and a
message after closing, which reached no one (#17 findings 1, 2, 5; #23 finding 7)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
from sqlmodel import select, update

from dialogs.i18n import translator
from storage.db import transaction
from storage.models import AuditEvent, Case, CaseMessage, FocalPoint, Referral
from tests.dialogs.helpers import DANGER_SKIPPED
from tests.web.test_api import _signin

HOME_DESK = "dl-desk-bmt"  # the demo directory's 24/7 desk of its only province
VI = translator("vi")


def _latest(live) -> tuple[Case, Referral | None]:
    async def read():
        async with transaction(live.runtime.store.sessions) as session:
            # Creation times are kept to the minute: the audit chain orders creations.
            newest = (
                select(AuditEvent.case_id)
                .where(AuditEvent.action == "case.created")
                .order_by(AuditEvent.seq.desc())
                .limit(1)
            )
            case = await session.get(Case, (await session.exec(newest)).one())
            query = select(Referral).where(Referral.case_id == case.id)
            return case, (await session.exec(query)).first()

    return live.run(read())


def _ok(person, event: dict) -> None:
    answer = person.event(event)
    assert answer.status_code == 200, answer.text


def _tap(person, code: str) -> None:
    """Press like the page does, and insist on a 200 (a 500 is what the person got)."""
    for message in reversed(person.messages):
        for option in message.get("options", []):
            if option["data"].rpartition(".")[2] == code and "." in option["data"]:
                _ok(person, {"kind": "choice", "data": option["data"]})
                return
    raise AssertionError(f"no option {code!r}")


def test_an_alert_with_the_place_skipped_goes_to_the_province_desk(live, person):
    someone = person("vi")
    for code in ("danger", "skip", "me"):  # "Bỏ qua", then "Tôi – gửi báo động"
        _tap(someone, code)
    assert someone.receipt_code() and VI.gettext("rc.desk_alert") in someone.text()
    case, referral = _latest(live)
    assert case.urgency == "immediate" and case.commune_code is None
    assert referral is not None and referral.focal_point_id == HOME_DESK


def test_an_alert_from_a_known_commune_is_in_the_desks_inbox_too(live, person):
    someone = person("vi")
    _tap(someone, "danger")
    _ok(someone, {"kind": "text", "text": "buon ma thuot"})
    _tap(someone, "c0")
    _tap(someone, "me")
    assert someone.receipt_code() and VI.gettext("rc.desk_alert") not in someone.text()
    case, referral = _latest(live)
    assert referral.focal_point_id != HOME_DESK  # the commune's people hold it
    for who in (referral.focal_point_id, HOME_DESK):
        invite = live.run(live.runtime.casework.invite(who, now=datetime.now(UTC)))
        with httpx.Client(base_url=live.url, follow_redirects=True) as client:
            inbox = _signin(live, client, invite)
            assert f'data-ref="{case.ref}"' in inbox.text, who
            if who == HOME_DESK:  # and the desk may acknowledge it for everyone
                csrf = re.search(r'name="csrf" value="([^"]+)"', inbox.text).group(1)
                acked = client.post(
                    "/focal/act", data={"csrf": csrf, "referral": referral.id, "action": "ack"}
                )
                assert acked.status_code == 200
    assert _latest(live)[1].status == "acknowledged"


def _to_the_place(someone) -> None:
    for code in ("safe", "me", "phys", "done", "partner", "72h", *DANGER_SKIPPED):
        _tap(someone, code)


def _after_the_place(someone) -> None:
    for code in (
        "a26",
        "f",
        "n",
        "ede",
        "n",
        "shelter",
        "done",
        "y",
        "health",
        "done",
        "y",
        "chat",
    ):
        _tap(someone, code)
    _ok(someone, {"kind": "text", "text": "CANARY-WEB-PLACE"})
    for code in ("done", "done", "send"):
        _tap(someone, code)


def test_a_report_with_the_place_skipped_is_referred_to_the_province_desk(live, person):
    someone = person("vi")
    _to_the_place(someone)
    _tap(someone, "skip")
    _after_the_place(someone)
    assert someone.receipt_code() and VI.gettext("rc.desk_report") in someone.text()
    case, referral = _latest(live)
    assert case.commune_code is None and case.consent_referral
    assert referral is not None and referral.focal_point_id == HOME_DESK


def test_a_location_shared_then_a_commune_confirmed_is_sent(live, person):
    someone = person("vi")
    _to_the_place(someone)
    _ok(someone, {"kind": "location", "lat": 12.6702, "lon": 108.0441})
    _tap(someone, "c0")  # the person confirms the nearest commune suggested
    _after_the_place(someone)
    assert someone.receipt_code()
    case, referral = _latest(live)
    assert case.commune_code is not None and referral is not None
    holder = live.runtime.directory.focal_point(referral.focal_point_id)
    assert holder.commune_code.code == case.commune_code or holder.role == "province_desk"


# -- after closing --------------------------------------------------------------------------------


def _reported_and_closed(live, person, client: httpx.Client):
    someone = person("vi")
    _to_the_place(someone)
    someone.say("buon ma thuot")
    _tap(someone, "c0")
    _after_the_place(someone)
    code = someone.receipt_code()
    case, referral = _latest(live)
    invite = live.run(live.runtime.casework.invite(referral.focal_point_id, now=datetime.now(UTC)))
    inbox = _signin(live, client, invite)
    assert case.ref in inbox.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', inbox.text).group(1)
    form = {"csrf": csrf, "referral": referral.id, "action": "close"}
    closed = client.post("/focal/act", data=form | {"outcome": "served", "confirm": "yes"})
    assert closed.status_code == 200
    # no longer to act on: only read-only, among the closed cases
    assert f'readonly" data-ref="{case.ref}"' in closed.text
    assert closed.text.count(f'data-ref="{case.ref}"') == 1
    return code, case


def _write_after_closing(person, code: str, text: str):
    later = person("vi")
    for step in ("safe", "code"):
        _tap(later, step)
    _ok(later, {"kind": "text", "text": code})
    _tap(later, "reply")  # "Nhắn cho người hỗ trợ"
    _ok(later, {"kind": "text", "text": text})
    _tap(later, "done")
    return later


def test_a_message_after_closing_reopens_the_case_in_the_holders_inbox(live, person):
    with httpx.Client(base_url=live.url, follow_redirects=True) as client:
        code, case = _reported_and_closed(live, person, client)
        later = _write_after_closing(person, code, "CANARY-WEB-AFTER")
        assert VI.gettext("fu.relayed") in later.text()
        inbox = client.get("/focal")
        assert f'data-ref="{case.ref}"' in inbox.text and "CANARY-WEB-AFTER" in inbox.text
    reopened, referral = _latest(live)
    assert reopened.status == "notified" and referral.status == "notified"


def test_a_message_after_closing_with_the_holder_gone_is_refused(live, person):
    with httpx.Client(base_url=live.url, follow_redirects=True) as client:
        code, case = _reported_and_closed(live, person, client)

    async def take_off_the_directory():
        async with transaction(live.runtime.store.sessions) as session:
            await session.exec(
                update(FocalPoint)
                .where(FocalPoint.id == case.assigned_focal_point_id)
                .values(active=False)
            )

    async def survivor_messages():
        async with transaction(live.runtime.store.sessions) as session:
            query = select(CaseMessage).where(
                CaseMessage.case_id == case.id, CaseMessage.sender == "survivor"
            )
            return len((await session.exec(query)).all())

    live.run(take_off_the_directory())
    try:
        kept = live.run(survivor_messages())
        later = _write_after_closing(person, code, "CANARY-WEB-LOST")
        shown = later.text()
        assert VI.gettext("fu.relayed") not in shown
        assert VI.gettext("fu.unheld") in shown and "111" in shown
        assert live.run(survivor_messages()) == kept  # nothing kept that no one would read
        assert _latest(live)[0].status == "closed"
    finally:

        async def back():
            async with transaction(live.runtime.store.sessions) as session:
                await session.exec(
                    update(FocalPoint)
                    .where(FocalPoint.id == case.assigned_focal_point_id)
                    .values(active=True)
                )

        live.run(back())
