"""Issue 23 finding 1: revoking a focal point ends every session and binding at once.

A focal point signed in on the web inbox and bound on Telegram or Zalo is revoked by
another process (`hotline focal revoke`, so this worker's memory is stale); from then on
the inbox lists nothing and takes no reply, chat buttons are refused, every refusal is
audited, and new cases go to someone else."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import select

from bot.runtime import Runtime
from bot.web import Limits, attach_runtime, install_web
from dialogs import focal_texts
from routing.matching import match_focal_point
from storage import escalation
from storage.db import transaction
from storage.models import AuditEvent, Case, Referral, RefusalCount
from tests.e2e.driver import TelegramPerson
from tests.e2e.test_focal import BMT, OFFICE_HOURS, report_from_buon_ma_thuot
from tests.e2e.test_zalo import USER, load_daklak_directory, settings_for
from tests.e2e.zalo_driver import ZaloPerson
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.zalo_api import FakeZaloAPI

SURVIVOR, SECOND_SURVIVOR, FOCAL_TELEGRAM = 738_000_800_001, 738_000_800_002, 738_000_800_900


@pytest.fixture
async def stack(tmp_path):
    with FakeBotAPI() as telegram:
        zalo = FakeZaloAPI().start()
        try:
            settings = settings_for(
                tmp_path, zalo, telegram_token=telegram.token, telegram_api_base=telegram.base_url
            )
            runtime = await Runtime.start(settings)
            try:
                await load_daklak_directory(runtime)
                app = FastAPI()
                app.state.runtime = runtime
                install_web(app, limits=Limits(10_000, 100_000, 10_000, 100_000, 10_000))
                attach_runtime(runtime, app.state.web)
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://t") as web:
                    yield runtime, telegram, zalo, web
            finally:
                await runtime.stop()
        finally:
            zalo.stop()


async def _audits(runtime: Runtime, action: str) -> list[AuditEvent]:
    async with transaction(runtime.store.sessions) as session:
        query = select(AuditEvent).where(AuditEvent.action == action)
        return list((await session.exec(query)).all())


async def _refused(runtime: Runtime, action: str) -> int:
    async with transaction(runtime.store.sessions) as session:
        query = select(RefusalCount).where(RefusalCount.action == action)
        return sum(row.count for row in (await session.exec(query)).all())


async def _web_sign_in(runtime: Runtime, web: httpx.AsyncClient, focal_point_id: str) -> str:
    """Signs in on the web inbox; the csrf token of the session."""
    code = await runtime.casework.invite(focal_point_id, now=datetime.now(UTC))
    pre = re.search(r'name="csrf" value="([^"]+)"', (await web.get("/focal")).text).group(1)
    signed_in = await web.post("/focal/signin", data={"code": code, "csrf": pre})
    assert signed_in.status_code == 303
    inbox = (await web.get("/focal")).text
    return re.search(r'name="csrf" value="([^"]+)"', inbox).group(1)


@pytest.mark.parametrize("chat", ["telegram", "zalo"])
async def test_revoking_ends_the_web_session_and_the_chat_binding_at_once(stack, chat):
    runtime, telegram, zalo, web = stack
    focal_id = match_focal_point(
        runtime.directory, commune_code=BMT, language="vi", now=OFFICE_HOURS
    ).focal_point.id
    bound_text = focal_texts.text("vi", "focal.bound", ref=focal_id)
    code = await runtime.casework.invite(focal_id, now=datetime.now(UTC))
    if chat == "telegram":
        focal = TelegramPerson(telegram, FOCAL_TELEGRAM)
        focal.command(f"/focal {code}")
    else:
        focal = ZaloPerson(zalo, USER + "revoked")
        focal.say(f"/focal {code}")
    await focal.wait_text(bound_text)
    csrf = await _web_sign_in(runtime, web, focal_id)

    await report_from_buon_ma_thuot(TelegramPerson(telegram, SURVIVOR))
    async with transaction(runtime.store.sessions) as session:
        referral = (await session.exec(select(Referral))).one()
        case = await session.get(Case, referral.case_id)
    assert referral.focal_point_id == focal_id
    await focal.wait_text(case.ref)  # the card reached the chat
    assert case.ref in (await web.get("/focal")).text  # and the inbox lists it

    # `hotline focal revoke` in another process: this worker's caches know nothing of it.
    await dataclasses.replace(runtime.casework).revoke(focal_id, now=datetime.now(UTC))

    reply = await web.post(
        "/focal/act",
        data={"csrf": csrf, "referral": referral.id, "action": "reply", "text": "CANARY-GONE"},
        follow_redirects=False,
    )
    assert reply.status_code == 403
    inbox = await web.get("/focal")
    assert case.ref not in inbox.text and 'action="/focal/signin"' in inbox.text
    assert (await web.get("/focal")).status_code == 200 and "lt_focal" not in web.cookies
    assert await _audits(runtime, "focal.revoked_refused")
    assert not await _audits(runtime, "focal.reply")  # nothing reached the survivor

    refused_before = await _refused(runtime, "focal.forbidden")
    if chat == "telegram":
        await focal.tap_global(focal_texts.data(focal_texts.ACK, referral.id))
        focal.command("/focal 00000-00000")
    else:
        focal.say("1")  # the card's first choice: acknowledge
        focal.say("/focal 00000-00000")
    # A chat's updates are handled in order: once this is answered, the press was handled.
    await focal.wait_text(focal_texts.text("vi", "focal.bad_code"))
    assert await _refused(runtime, "focal.forbidden") == refused_before + 1
    assert await _audits(runtime, "focal.forbidden")  # counted per window (storage.refusals)
    async with transaction(runtime.store.sessions) as session:
        assert (await session.get(Referral, referral.id)).acknowledged_at is None

    # The case it held climbs its ladder at once: someone else has it now.
    await escalation.tick(
        runtime.store.sessions,
        now=datetime.now(UTC),
        worker_id="test",
        notifier=runtime.casework.notify_escalations,
        keyring=runtime.store.keyring,
        config=runtime.ladder,
    )
    async with transaction(runtime.store.sessions) as session:
        moved = await session.get(Referral, referral.id)
    assert moved.focal_point_id != focal_id and moved.status == "notified"
    assert await _audits(runtime, "referral.handed_over")

    # A new case from the same commune goes to someone else.
    await report_from_buon_ma_thuot(TelegramPerson(telegram, SECOND_SURVIVOR))
    async with transaction(runtime.store.sessions) as session:
        newest = (await session.exec(select(Referral).where(Referral.case_id != case.id))).one()
    assert newest.focal_point_id != focal_id


async def test_a_new_invite_takes_a_revoked_focal_point_back_but_not_its_old_sessions(stack):
    runtime, *_ = stack
    focal_id = "bmt-primary-1"
    code = await runtime.casework.invite(focal_id, now=datetime.now(UTC))
    assert await runtime.casework.redeem(
        "web", "old-session", "old-session", code, now=datetime.now(UTC)
    )
    await runtime.casework.revoke(focal_id, now=datetime.now(UTC))
    await load_daklak_directory(runtime)  # a directory import does not take it back
    assert runtime.directory.focal_point(focal_id) is None

    await runtime.casework.invite(focal_id, now=datetime.now(UTC))
    await runtime.reload_directory()
    assert runtime.directory.focal_point(focal_id) is not None
    assert not await runtime.casework.is_focal("web", "old-session")


async def test_a_closed_case_is_not_reopened_to_a_revoked_focal_point(stack):
    runtime, telegram, _zalo, _web = stack
    focal_id = match_focal_point(
        runtime.directory, commune_code=BMT, language="vi", now=OFFICE_HOURS
    ).focal_point.id
    code = await runtime.casework.invite(focal_id, now=datetime.now(UTC))
    focal = TelegramPerson(telegram, FOCAL_TELEGRAM)
    focal.command(f"/focal {code}")
    await focal.wait_text(focal_texts.text("vi", "focal.bound", ref=focal_id))
    await report_from_buon_ma_thuot(TelegramPerson(telegram, SURVIVOR))
    async with transaction(runtime.store.sessions) as session:
        referral = (await session.exec(select(Referral))).one()
        case = await session.get(Case, referral.case_id)
    await focal.tap_global(focal_texts.data(focal_texts.CLOSE, referral.id))
    await focal.tap_global(focal_texts.data("out", referral.id, "declined"))
    await focal.wait_text(focal_texts.text("vi", "focal.closed", ref=case.ref))

    await dataclasses.replace(runtime.casework).revoke(focal_id, now=datetime.now(UTC))
    async with transaction(runtime.store.sessions) as session:
        closed = await session.get(Case, case.id)
        passed_on = await runtime.casework.relay_to_focal(session, closed, ["later"], OFFICE_HOURS)
    async with transaction(runtime.store.sessions) as session:
        still = await session.get(Case, case.id)
        again = await session.get(Referral, referral.id)
    assert passed_on is False  # she is told it was not passed on
    assert still.status == "closed" and again.status == "closed"
