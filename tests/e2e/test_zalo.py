"""End to end over Zalo: the hotline long-polling (or on its webhook) a local fake Zalo Bot
API server. Zalo has no buttons: the person types the numbers of the choices."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlmodel import select

from bot.hot_posts import install_hot_posts
from bot.runtime import Runtime
from bot.settings import Settings
from bot.zalo import webhook
from bot.zalo.runner import start_zalo
from dialogs import channel_texts
from dialogs.i18n import translator
from storage import cases
from storage.db import transaction
from storage.models import Case, CaseMessage, OutboxMessage
from storage.records import data_key_of, open_from
from tests.dialogs.helpers import DANGER_SKIPPED
from tests.e2e.driver import TelegramPerson
from tests.e2e.test_telegram import survivor_report as telegram_survivor_report
from tests.e2e.zalo_driver import ZaloPerson, numbered
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.zalo_api import DEFAULT_DISPLAY_NAME, FakeZaloAPI

ACCOUNT = ["CANARY-ZALO-ACCOUNT Chồng tôi đánh tôi.", "CANARY-ZALO-SECOND Tôi sợ lắm."]
PHONE = "0987 654 321"
USER = "7d4a1c9e55b2f0aa31c8"  # Zalo ids are opaque strings
PHOTO = "https://photo.example.invalid/CANARY-PHOTO-REF.jpg"
SECRET = "zalo-webhook-secret-123"


def settings_for(tmp_path: Path, fake: FakeZaloAPI, **overrides) -> Settings:
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'hotline.db'}",
        key_file=tmp_path / "hotline.key",
        **(
            {
                "zalo_token": fake.token,
                "zalo_api_base": fake.base_url,
                "webhook_secret": SECRET,
                "send_rate_chat": 50.0,
                "send_burst_chat": 50.0,
                "send_backoff_s": 0.05,
            }
            | overrides
        ),
    )


@pytest.fixture
def fake_zalo() -> AsyncIterator[FakeZaloAPI]:
    fake = FakeZaloAPI().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
async def runtime(tmp_path, fake_zalo) -> AsyncIterator[Runtime]:
    started = await Runtime.start(settings_for(tmp_path, fake_zalo))  # polls Zalo
    try:
        yield started
    finally:
        await started.stop()


async def one_case(runtime: Runtime) -> tuple[Case, dict]:
    async with transaction(runtime.store.sessions) as session:
        (case,) = (await session.exec(select(Case))).all()
        return case, await cases.open_case(session, runtime.store.vault, case)


async def survivor_report(person: ZaloPerson) -> None:
    """From the safety question to the summary, typing only numbers for every choice."""
    await person.choose("safe")
    await person.choose("me")
    await person.choose("phys")
    await person.choose("psy")
    await person.choose("done")
    await person.choose("partner")
    await person.choose("72h")
    for code in DANGER_SKIPPED:
        await person.choose(code)
    await person.wait_text(translator(person.lang).gettext("ch.zalo.no_location"))
    person.say("buon ma thuot")  # no diacritics: the commune search folds them
    await person.choose("c0")
    await person.choose("a26")
    await person.choose("f")
    await person.choose("n")
    await person.choose("ede")
    await person.choose("n")  # not moved from another province
    await person.choose("med")
    await person.choose("done")
    await person.choose("y")
    await person.choose("health")
    await person.choose("done")
    await person.choose("y")
    await person.choose("phone")
    person.say(PHONE)
    await person.choose("eve")
    person.say(ACCOUNT[0])
    person.send_photo(PHOTO)
    person.say(ACCOUNT[1])
    await person.choose("done")
    await person.choose("done")  # no attachments


async def test_no_prompt_asks_for_a_voice_message_zalo_does_not_pass_on(runtime, fake_zalo):
    """Issue 17 finding 8, on Zalo: the account prompts said "text or voice"."""
    person = ZaloPerson(fake_zalo, USER)
    person.say("/start")
    await survivor_report(person)
    tr = translator("vi")
    said = "\n".join(m.text or "" for m in person.visible())
    assert tr.gettext("cap.novoice.text_photo") in said  # what Zalo asks for instead
    for claim in channel_texts.claims({"voice"}, "vi"):
        assert claim not in said
    assert "tin nhắn thoại" not in said


@pytest.mark.parametrize("lang", ["vi", "en"])
async def test_survivor_reports_with_typed_numbers_only(runtime, fake_zalo, lang, caplog):
    caplog.set_level(logging.DEBUG)
    person = ZaloPerson(fake_zalo, USER)
    person.say("/start")
    if lang != "vi":
        await person.choose("lang")
        await person.choose(f"l_{lang}")
        person.lang = lang
    await survivor_report(person)
    await person.choose("send")
    code, receipt = await person.receipt_code()
    tr = translator(lang)
    assert tr.gettext("ch.zalo.rc_hint") in receipt.text  # no false promise to delete it
    await person.choose("saved")
    await person.wait_text(tr.gettext("ch.zalo.rc_done"))

    choices = [t for t in person.typed if t not in (*ACCOUNT, PHONE, "buon ma thuot", "/start")]
    assert choices and all(t.isdigit() for t in choices)  # every choice was a typed number
    sent = fake_zalo.calls("sendMessage")
    assert sent and all(call.ok for call in sent)
    assert {call.method for call in fake_zalo.calls()} <= {
        "deleteWebhook",
        "getUpdates",
        "sendMessage",
    }
    first = person.visible()[0].text
    count = len(numbered(first))
    hint = translator("vi").gettext(
        "numbered.many", first=", ".join(map(str, range(1, count))), last=count
    )
    assert count >= 3 and first.endswith(hint)  # "Trả lời 1, 2, … hoặc 6."
    assert translator("vi").gettext("ch.zalo.intro") in first  # honest from the first message

    case, sealed = await one_case(runtime)
    assert case.channel == "zalo" and case.reporter == "survivor"
    assert case.category == "physical_assault" and case.commune_code is not None
    assert sealed["narrative"] == ACCOUNT
    assert sealed["attachments"] == [{"kind": "photo", "ref": PHOTO}]
    assert sealed["contact"]["phone"] == "+84987654321"

    folder = Path(runtime.settings.database_url.split("///")[1]).parent
    raw = b"".join(p.read_bytes() for p in folder.glob("hotline.db*"))
    for secret in [
        *ACCOUNT,
        "987654321",
        "CANARY-PHOTO-REF",
        USER,
        DEFAULT_DISPLAY_NAME,
        "CANARY-DISPLAY-NAME",
        code.replace(" ", ""),
    ]:
        assert secret.encode() not in raw, secret
        assert secret not in caplog.text, secret


async def test_witness_reports_a_child_in_danger(runtime, fake_zalo):
    person = ZaloPerson(fake_zalo, USER + "w")
    person.say("/start")
    await person.choose("safe")
    await person.choose("other")
    await person.choose("friend")
    await person.choose("n")  # the victim does not know
    await person.choose("y")  # a child
    await person.choose("y")  # someone is in danger now
    await person.wait_text("113")
    await person.choose("sex")
    await person.choose("done")
    person.say("Ea Kar, Dak Lak")
    await person.choose("c0")
    await person.choose("now")
    await person.choose("none")
    await person.choose("y")
    await person.choose("social")
    await person.choose("done")
    await person.choose("n")
    person.say("CANARY-WITNESS I hear the child crying every night.")
    await person.choose("done")
    await person.choose("send")
    await person.receipt_code()
    case, sealed = await one_case(runtime)
    assert case.channel == "zalo" and case.reporter == "witness"
    assert case.urgency == "immediate" and case.category == "sexual_assault"
    assert sealed["details"]["witness"]["victim_is_child"] is True


async def test_option_words_work_too(runtime, fake_zalo):
    person = ZaloPerson(fake_zalo, USER + "o")
    person.say("/start")
    await person.wait_text(translator("vi").gettext("start.safe"))
    person.say("co, toi noi chuyen duoc")  # the option's label, typed without diacritics
    await person.choose("me")  # the next question came
    await person.offered("phys")


async def test_quick_exit_says_honestly_what_zalo_cannot_delete(runtime, fake_zalo):
    person = ZaloPerson(fake_zalo, USER + "x")
    person.say("/start")
    await person.choose("safe")
    await person.choose("x")
    honest = translator("vi").gettext("ch.zalo.exit")
    last = await person.wait_text(honest)
    await runtime.senders["zalo"].wait_idle()
    assert person.visible()[-1] is last  # nothing after it (no bare "OK."), no buttons
    assert not numbered(last.text)
    async with transaction(runtime.store.sessions) as session:
        methods = {row.method for row in (await session.exec(select(OutboxMessage))).all()}
    assert methods == {"sendMessage"}  # never a delete or an edit


async def test_follow_up_on_zalo_with_a_receipt_from_telegram(tmp_path, fake_zalo):
    with FakeBotAPI() as telegram:
        settings = settings_for(
            tmp_path, fake_zalo, telegram_token=telegram.token, telegram_api_base=telegram.base_url
        )
        runtime = await Runtime.start(settings)  # Telegram and Zalo both polled
        try:
            reporter = TelegramPerson(telegram, 738_000_999_001)
            reporter.command("/start")
            await telegram_survivor_report(reporter, phone=False)
            await reporter.tap("send")
            code, _ = await reporter.receipt_code()

            other = ZaloPerson(fake_zalo, USER + "f")
            other.say("/start")
            await other.choose("safe")
            await other.choose("code")
            other.say(code)
            await other.choose("add")
            other.say("CANARY-LATER thêm thông tin")
            await other.choose("done")
            await other.wait_text(translator("vi").gettext("fu.added"))

            case, _ = await one_case(runtime)
            assert case.channel == "telegram"
            async with transaction(runtime.store.sessions) as session:
                query = select(CaseMessage).where(CaseMessage.case_id == case.id)
                (message,) = (await session.exec(query)).all()
                body = open_from(
                    runtime.store.vault,
                    await data_key_of(session, runtime.store.vault, case),
                    message,
                    "body",
                )
            assert body["texts"] == ["CANARY-LATER thêm thông tin"]
        finally:
            await runtime.stop()


async def test_send_failures_are_retried_through_the_outbox_nothing_lost_or_doubled(
    runtime, fake_zalo
):
    fake_zalo.fail_next("sendMessage", 429, retry_after=0.2)
    fake_zalo.fail_next("sendMessage", 500, count=2)
    fake_zalo.fail_next("sendMessage", 502, body="<html>Bad Gateway</html>")
    person = ZaloPerson(fake_zalo, USER + "r")
    person.say("/start")
    await person.choose("safe")
    await person.choose("me")
    await person.choose("phys")  # the prompts kept coming, in order
    await runtime.senders["zalo"].wait_idle()

    async with transaction(runtime.store.sessions) as session:
        rows = (await session.exec(select(OutboxMessage))).all()
    assert rows and all(row.state == "sent" and row.method == "sendMessage" for row in rows)
    delivered = [call for call in fake_zalo.calls("sendMessage") if call.ok]
    failed = [call for call in fake_zalo.calls("sendMessage") if not call.ok]
    assert len(delivered) == len(rows) and len(failed) == 4
    texts = [message.text for message in person.visible()]
    assert len(texts) == len(set(texts))  # no message twice
    assert [m.seq for m in person.visible()] == sorted(m.seq for m in person.visible())


async def test_start_zalo_refuses_what_it_cannot_do_safely(tmp_path, fake_zalo):
    runtime = await Runtime.start(
        settings_for(tmp_path, fake_zalo, webhook_secret="short"), channels=False
    )
    try:
        with pytest.raises(ValueError, match="secret"):
            await start_zalo(runtime, webhook_url="http://127.0.0.1:1/zalo/webhook")
    finally:
        await runtime.stop()
    runtime = await Runtime.start(
        settings_for(tmp_path, fake_zalo, zalo_token=None), channels=False
    )
    try:
        with pytest.raises(ValueError, match="HOTLINE_ZALO_TOKEN"):
            await start_zalo(runtime)
    finally:
        await runtime.stop()


# -- webhook -------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.asynccontextmanager
async def serving(runtime: Runtime) -> AsyncIterator[str]:
    """The webhook route served by uvicorn on a loopback port; yields the base URL."""
    app = FastAPI()
    app.state.runtime = runtime
    install_hot_posts(app)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:  # uvicorn has no start event
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def test_webhook_mode_and_a_wrong_secret_is_rejected(tmp_path, fake_zalo):
    runtime = await Runtime.start(settings_for(tmp_path, fake_zalo), channels=False)
    try:
        async with serving(runtime) as base:
            await start_zalo(runtime, webhook_url=f"{base}{webhook.PATH}")
            assert fake_zalo.webhook_info()["secret_token"] == SECRET
            person = ZaloPerson(fake_zalo, USER + "h")
            person.say("/start")
            await person.choose("safe")
            await person.choose("me")
            await person.offered("phys")
            assert all(d.status == 200 for d in fake_zalo.webhook_deliveries())

            shown = len(person.visible())
            forged = {
                "event_name": "message.text.received",
                "message": {
                    "message_id": "forged-1",
                    "from": {"id": USER + "h"},
                    "chat": {"id": USER + "h", "chat_type": "PRIVATE"},
                    "text": "/exit",
                },
            }
            async with httpx.AsyncClient(base_url=base) as client:
                for headers in ({}, {webhook.SECRET_HEADER: "wrong-secret-123"}):
                    answer = await client.post(webhook.PATH, json=forged, headers=headers)
                    assert answer.status_code == 401
                answer = await client.post(
                    webhook.PATH, content=b"{not json", headers={webhook.SECRET_HEADER: SECRET}
                )
                assert answer.status_code == 400
                genuine = {**forged, "message": {**forged["message"], "message_id": "m-9"}}
                genuine["message"]["text"] = "/help"
                for _ in range(2):  # delivered again (an answer lost on the way): once only
                    answer = await client.post(
                        webhook.PATH, json=genuine, headers={webhook.SECRET_HEADER: SECRET}
                    )
                    assert answer.status_code == 200
            await runtime.senders["zalo"].wait_idle()
            assert len(person.visible()) == shown + 1  # the forged /exit did nothing
            assert translator("vi").gettext("help.text").split("\n")[0] in person.visible()[-1].text
    finally:
        await runtime.stop()


# -- focal points (on Telegram) and a survivor on Zalo -------------------------------------


async def load_daklak_directory(runtime: Runtime) -> None:
    from routing.csv_import import parse_directory_csv
    from routing.data import daklak_sample_paths
    from storage.directory_store import upsert_directory
    from tests.e2e.test_focal import OFFICE_HOURS

    runtime.hotline.clock = lambda: OFFICE_HOURS
    # Reports dated in the past would be escalated at once by the background tick.
    await runtime.escalations.shutdown()
    parsed = parse_directory_csv(*daklak_sample_paths())
    async with transaction(runtime.store.sessions) as session:
        await upsert_directory(
            session,
            runtime.store.vault,
            list(parsed.focal_points),
            list(parsed.shelters),
            now=OFFICE_HOURS,
        )
    await runtime.reload_directory()


async def zalo_report_from_buon_ma_thuot(survivor: ZaloPerson) -> None:
    """Wants shelter and contact through the chat; the account is consented to be shared."""
    survivor.say("/start")
    for code in ("safe", "me", "phys", "done", "partner", "72h", *DANGER_SKIPPED):
        await survivor.choose(code)
    survivor.say("buon ma thuot")
    for code in ("c0", "a26", "f", "n", "ede", "n", "shelter", "done", "y", "health"):
        await survivor.choose(code)
    for code in ("done", "y", "chat"):
        await survivor.choose(code)
    survivor.say("CANARY-ZALO-STORY Anh ta lại đánh tôi.")
    for code in ("done", "done", "send"):
        await survivor.choose(code)
    await survivor.receipt_code()


async def test_a_focal_point_on_telegram_reaches_a_survivor_on_zalo(tmp_path, fake_zalo):
    from dialogs import focal_texts
    from routing.matching import match_focal_point
    from storage.models import Referral
    from tests.e2e.test_focal import BMT, OFFICE_HOURS

    with FakeBotAPI() as telegram:
        settings = settings_for(
            tmp_path, fake_zalo, telegram_token=telegram.token, telegram_api_base=telegram.base_url
        )
        runtime = await Runtime.start(settings)
        try:
            await load_daklak_directory(runtime)
            expected = match_focal_point(
                runtime.directory, commune_code=BMT, language="vi", now=OFFICE_HOURS
            )
            invite = await runtime.casework.invite(expected.focal_point.id, now=datetime.now(UTC))
            focal = TelegramPerson(telegram, 738_000_700_950)
            focal.command(f"/focal {invite}")
            await focal.wait_text(expected.focal_point.id)

            survivor = ZaloPerson(fake_zalo, USER + "s")
            await zalo_report_from_buon_ma_thuot(survivor)

            async with transaction(runtime.store.sessions) as session:
                referral = (await session.exec(select(Referral))).one()
                case = await session.get(Case, referral.case_id)
            assert case.channel == "zalo" and referral.focal_point_id == expected.focal_point.id
            card = await focal.wait_text(case.ref)
            assert "CANARY-ZALO-STORY" in card.text
            await focal.tap_global(focal_texts.data(focal_texts.REPLY, referral.id))
            await focal.wait_text(focal_texts.text("vi", "focal.reply.prompt", ref=case.ref))
            focal.say("Chào chị, em là cán bộ hỗ trợ.")
            reply = await survivor.wait_text("Chào chị, em là cán bộ hỗ trợ.")
            await survivor.options_from(
                reply
            )  # quick exit and the emergency numbers one reply away
            assert expected.focal_point.phone not in reply.text
        finally:
            await runtime.stop()


async def test_a_focal_point_on_zalo_binds_and_gets_the_card(runtime, fake_zalo):
    from dialogs import focal_texts
    from routing.matching import match_focal_point
    from storage.models import Referral
    from tests.e2e.test_focal import BMT, OFFICE_HOURS

    await load_daklak_directory(runtime)
    expected = match_focal_point(
        runtime.directory, commune_code=BMT, language="vi", now=OFFICE_HOURS
    )
    focal = ZaloPerson(fake_zalo, USER + "fp")
    focal.say("/focal 00000-00000")  # a wrong code: told so, nothing bound
    await focal.wait_text(focal_texts.text("vi", "focal.bad_code"))
    invite = await runtime.casework.invite(expected.focal_point.id, now=datetime.now(UTC))
    focal.say(f"/focal {invite}")
    await focal.wait_text(focal_texts.text("vi", "focal.bound", ref=expected.focal_point.id))

    survivor = ZaloPerson(fake_zalo, USER + "s2")
    await zalo_report_from_buon_ma_thuot(survivor)
    async with transaction(runtime.store.sessions) as session:
        referral = (await session.exec(select(Referral))).one()
        case = await session.get(Case, referral.case_id)
    card = await focal.wait_text(case.ref)
    assert "CANARY-ZALO-STORY" in card.text
    labels = [label for _n, label in numbered(card.text)]
    assert translator("vi").gettext("focal.btn.ack").endswith(labels[0])  # numbered choices
    focal.say("1")  # typed numbers answer the card: acknowledge
    await focal.wait_text(focal_texts.text("vi", "focal.acked", ref=case.ref))
    async with transaction(runtime.store.sessions) as session:
        assert (await session.get(Referral, referral.id)).status == "acknowledged"
    focal.say("nothing to answer")  # no pending reply: the desk says so
    await focal.wait_text(focal_texts.text("vi", "focal.inbox.empty"))
    focal.say("2")  # the newest message with choices is still the card: "2" is Reply
    await focal.wait_text(focal_texts.text("vi", "focal.reply.prompt", ref=case.ref))
    focal.say("Chào chị, em là cán bộ hỗ trợ ở phường.")
    reply = await survivor.wait_text("Chào chị, em là cán bộ hỗ trợ ở phường.")
    await survivor.options_from(reply)
    assert not any(
        translator("vi").gettext("start.safe") in (m.text or "") for m in focal.visible()
    )


async def test_a_webhook_update_that_fails_is_answered_500_and_delivered_again(tmp_path, fake_zalo):
    runtime = await Runtime.start(settings_for(tmp_path, fake_zalo), channels=False)
    try:
        async with serving(runtime) as base:
            channel = await start_zalo(runtime, webhook_url=f"{base}{webhook.PATH}")
            real = channel.hotline

            class Hiccup:  # the database fails once
                failed = False

                async def handle(self, inbound):
                    if not Hiccup.failed:
                        Hiccup.failed = True
                        raise RuntimeError("CANARY-ERROR database is gone")
                    await real.handle(inbound)

            channel.hotline = Hiccup()
            person = ZaloPerson(fake_zalo, USER + "d")
            person.say("/start")
            await person.offered("safe")
            statuses = [d.status for d in fake_zalo.webhook_deliveries()]
            assert statuses == [500, 200]  # nothing lost
            await runtime.senders["zalo"].wait_idle()
            assert len(person.visible()) == 1  # nothing doubled
    finally:
        await runtime.stop()


async def test_an_update_that_cannot_be_decoded_is_skipped_and_polling_goes_on(
    runtime, fake_zalo, caplog
):
    """Issue 23 finding 8, on Zalo: logged without its content, and the next is answered."""
    poison = fake_zalo._message(USER + "p", DEFAULT_DISPLAY_NAME, text="CANARY-POISON text")
    poison["from"] = "CANARY-POISON sender"
    fake_zalo.inject_update({"event_name": "message.text.received", "message": poison})
    person = ZaloPerson(fake_zalo, USER + "p")
    person.say("/start")
    await person.wait_text(translator("vi").gettext("start.safe"))
    assert "could not be decoded" in caplog.text and "CANARY-POISON" not in caplog.text
