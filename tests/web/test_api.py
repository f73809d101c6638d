"""The web chat's JSON API and the focal inbox over HTTP (no browser)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from bot.web.render import WebRenderer
from bot.web.security import CSP
from dialogs import actions as A
from storage.db import transaction
from storage.models import Case, OutboxMessage
from tests.web.driver import WebPerson, survivor_report


def _cases(live) -> list[Case]:
    async def read():
        async with transaction(live.runtime.store.sessions) as session:
            return list((await session.exec(select(Case))).all())

    return live.run(read())


def test_renderer_maps_every_action():
    renderer = WebRenderer()
    send = renderer.render(
        A.Send("hi", (A.Option("1.a", "A"),), request_location=True, tag="prompt"),
        "s",
        incoming=[],
        lang="en",
    )
    assert send[0].method == "send" and send[0].params["location"] is True
    assert send[0].params["options"] == [{"data": "1.a", "label": "A"}]
    assert renderer.render(A.Edit("prompt", "x"), "s", incoming=[], lang="vi")[0].method == "edit"
    assert (
        renderer.render(A.DeleteTracked("receipt"), "s", incoming=[], lang="vi")[0].params["tag"]
        == "receipt"
    )
    assert renderer.render(A.DeleteTracked(None), "s", incoming=[], lang="vi")[0].method == "clear"


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_report_to_receipt_and_the_code_is_never_replayed(live, person, lang):
    before = len(_cases(live))
    someone = person(lang)
    survivor_report(someone)
    someone.tap("send")
    code = someone.receipt_code()
    assert code is not None
    someone.tap("saved")
    assert someone.receipt_code() is None
    # A reload replays the conversation from the start: the receipt message is gone for good.
    replay = WebPerson(live.url)
    replay.session = someone.session
    replay._apply(replay.poll(0))
    assert replay.messages and replay.receipt_code() is None
    replay.close()
    cases = _cases(live)
    assert len(cases) == before + 1 and cases[-1].channel == "web"


def test_security_headers_and_no_cookie_for_survivors(live):
    page = httpx.get(live.url + "/")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == CSP
    assert "'unsafe-inline'" not in CSP and "script-src 'self'" in CSP
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    assert "set-cookie" not in page.headers
    assert "<script>" not in page.text and " style=" not in page.text  # no inline code
    assert "https://" not in page.text and "http://" not in page.text  # no CDN, no fonts
    start = httpx.post(live.url + "/api/chat/start", json={})
    assert start.status_code == 200 and "set-cookie" not in start.headers


def test_forged_or_missing_session_is_refused(live, person):
    someone = person()
    forged = someone.session[:-1] + ("0" if someone.session[-1] != "0" else "1")
    for headers in ({"X-Session": forged}, {"X-Session": "x" * 40}, {}):
        answer = httpx.post(
            live.url + "/api/chat/event",
            json={"seq": 1, "event": {"kind": "text", "text": "hi"}},
            headers=headers,
        )
        assert answer.status_code in (401, 422)


def test_form_posts_cannot_reach_the_json_api(live, person):
    """A cross-site form can send neither the custom header nor a JSON content type."""
    someone = person()
    answer = httpx.post(
        live.url + "/api/chat/event",
        content='{"seq": 5, "event": {"kind": "text", "text": "hi"}}',
        headers={"X-Session": someone.session, "Content-Type": "text/plain"},
    )
    assert answer.status_code in (415, 422)  # FastAPI refuses a non-JSON body first


def test_a_resent_event_is_handled_once(live, person):
    someone = person()
    someone.tap("safe")
    count = len(someone.messages)
    resent = httpx.post(
        live.url + "/api/chat/event",
        json={"seq": someone.seq, "after": someone.last, "event": {"kind": "choice", "data": "x"}},
        headers={"X-Session": someone.session},
    )
    assert resent.status_code == 200 and resent.json()["ops"] == []
    assert len(someone.messages) == count


def test_what_a_page_read_counts_as_sent_once_marked(live, person):
    """The page reads its session's rows itself; they are marked sent in batches (a quick
    exit keeps a sent row's id only, not its words)."""
    from storage import conversations

    someone = person()
    someone.tap("safe")
    store = live.runtime.store
    key = conversations.conversation_key(store.vault, "web", someone.session)

    async def states() -> list[str]:
        await live.app.state.web.flush_delivered(store)
        async with transaction(store.sessions) as session:
            query = select(OutboxMessage.state).where(OutboxMessage.queue_key == key)
            return list((await session.exec(query)).all())

    found = live.run(states())
    assert found and set(found) == {"sent"}


def test_quick_exit_purges_the_session(live, person):
    from dialogs.i18n import translator

    tr = translator("vi")
    someone = person()
    assert tr.gettext("ch.web.intro") in someone.messages[0]["text"]
    assert tr.gettext("web.exit_hint") in httpx.get(live.url + "/").text  # the button's title
    someone.tap("more")  # "📖 Đọc thêm"
    assert tr.gettext("ch.web.more") in someone.text()  # "quick exit clears this page"
    someone.tap("safe")
    someone.tap("info")
    someone.tap("digital")
    assert tr.gettext("ch.web.digital") in someone.text()  # what quick exit clears
    someone.say("CANARY-EXIT something")
    answer = httpx.post(live.url + "/api/chat/exit", headers={"X-Session": someone.session})
    assert answer.status_code == 204

    async def rows():
        async with transaction(live.runtime.store.sessions) as session:
            query = select(OutboxMessage).where(OutboxMessage.channel == "web")
            return [r for r in (await session.exec(query)).all()]

    keyed = live.run(rows())
    assert all(r.queue_key != _key(live, someone.session) for r in keyed)
    assert someone.poll(0)["ops"] == []


def _key(live, sid: str) -> str:
    from storage.conversations import conversation_key

    return conversation_key(live.runtime.store.vault, "web", sid)


def test_rate_limit_per_session_answers_429(tmp_path):
    from bot.web import Limits
    from tests.web.server import LiveServer

    with LiveServer(tmp_path, demo=False, limits=Limits(session_events=3)) as small:
        someone = WebPerson(small.url)
        someone.start()
        codes = [someone.event({"kind": "text", "text": "hi"}).status_code for _ in range(5)]
        someone.close()
    assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]


def _signin(live, client: httpx.Client, code: str) -> httpx.Response:
    page = client.get("/focal").text
    pre = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    return client.post("/focal/signin", data={"code": code, "csrf": pre})


def test_focal_sign_in_is_limited_and_audited_like_focal_in_a_chat(tmp_path):
    """The web sign-in and `/focal CODE` share one limiter (bot/attempts.py): per address
    here, per chat account there."""
    from bot.attempts import PER_SENDER
    from storage.models import AuditEvent
    from tests.web.server import LiveServer

    with LiveServer(tmp_path, demo=False) as small:
        with httpx.Client(base_url=small.url, follow_redirects=True) as client:
            codes = [_signin(small, client, "00000-00000").status_code for _ in range(7)]

        async def read():
            async with transaction(small.runtime.store.sessions) as session:
                return list((await session.exec(select(AuditEvent))).all())

        events = [e for e in small.run(read()) if e.action.startswith("focal.")]
    assert codes == [403] * PER_SENDER + [429] * (7 - PER_SENDER)
    # Refusals are counted per window (storage.refusals): one event per kind, no address.
    assert sorted(e.action for e in events) == ["focal.bad_invite", "focal.invite_limited"]
    assert all(e.actor_id is None for e in events)


def test_focal_inbox_sign_in_reply_and_the_survivor_reads_it(live, person):
    reporter = person("vi")
    survivor_report(reporter, chat=True, account="CANARY-WEB-FOCAL")
    reporter.tap("send")
    code = reporter.receipt_code()
    reporter.tap("saved")
    ref = _cases(live)[-1].ref

    code_fp = live.run(live.runtime.casework.invite("bmt-primary-1", now=_now()))
    code_fp = code_fp[0] if isinstance(code_fp, tuple) else code_fp
    with httpx.Client(base_url=live.url, follow_redirects=True) as client:
        bad = _signin(live, client, "00000-00000")
        assert bad.status_code == 403
        inbox = _signin(live, client, code_fp)
        assert inbox.status_code == 200 and ref in inbox.text
        cookie = inbox.history[0].headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "path=/focal" in cookie
        csrf = re.search(r'name="csrf" value="([^"]+)"', inbox.text).group(1)
        card = inbox.text[inbox.text.index(f'data-ref="{ref}"') :]
        referral = re.search(r'name="referral" value="([^"]+)"', card).group(1)
        forged = client.post(
            "/focal/act", data={"csrf": "nope", "referral": referral, "action": "ack"}
        )
        assert forged.status_code == 403
        acked = client.post(
            "/focal/act", data={"csrf": csrf, "referral": referral, "action": "ack"}
        )
        assert acked.status_code == 200
        replied = client.post(
            "/focal/act",
            data={"csrf": csrf, "referral": referral, "action": "reply", "text": "CANARY-REPLY-1"},
        )
        assert replied.status_code == 200 and "CANARY-REPLY-1" in replied.text
        other = client.post(
            "/focal/act", data={"csrf": csrf, "referral": "f" * 32, "action": "ack"}
        )
        assert other.status_code == 403  # not theirs: refused (and audited by the desk)

    later = person("vi")
    later.tap("safe")
    later.tap("code")
    later.say(code)
    assert "CANARY-REPLY-1" in later.text()
    # The original session, still open, got the reply pushed too.
    assert any("CANARY-REPLY-1" in op.get("text", "") for op in reporter.poll()["ops"])


def _now():
    from datetime import UTC, datetime

    return datetime.now(UTC)


def test_static_files_are_packaged():
    static = Path(__file__).resolve().parents[2] / "bot" / "web" / "static"
    for name in ("chat.html", "chat.js", "chat.css", "neutral.html", "focal.css"):
        assert (static / name).exists()


def test_no_content_or_session_id_in_the_database_files_or_logs(live, person, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    someone = person("vi")
    survivor_report(someone, chat=True, account="CANARY-RAW-WEB tối qua")
    someone.tap("send")
    code = someone.receipt_code().replace(" ", "")
    someone.tap("saved")
    path = Path(live.settings.database_url.split("///", 1)[1])
    raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    for secret in ("CANARY-RAW-WEB", someone.session, someone.session.split(".")[0], code):
        assert secret.encode() not in raw, secret
        assert secret not in caplog.text, secret


def test_a_focal_point_sees_and_acts_on_only_their_referrals(live, person):
    reporter = person("vi")
    survivor_report(reporter, chat=True, account="CANARY-NOT-YOURS")
    reporter.tap("send")
    reporter.tap("saved")
    case = _cases(live)[-1]

    async def referral_id():
        from storage.models import Referral

        async with transaction(live.runtime.store.sessions) as session:
            query = select(Referral).where(Referral.case_id == case.id)
            return (await session.exec(query)).first().id

    rid = live.run(referral_id())
    other = live.run(live.runtime.casework.invite("eakar-primary", now=_now()))  # another commune
    other = other[0] if isinstance(other, tuple) else other
    with httpx.Client(base_url=live.url, follow_redirects=True) as client:
        inbox = _signin(live, client, other)
        assert inbox.status_code == 200
        assert case.ref not in inbox.text and "CANARY-NOT-YOURS" not in inbox.text
        csrf = re.search(r'name="csrf" value="([^"]+)"', inbox.text).group(1)
        for action in ("ack", "close"):
            form = {"csrf": csrf, "referral": rid, "action": action}
            refused = client.post("/focal/act", data=form | {"outcome": "served", "confirm": "yes"})
            assert refused.status_code == 403
        out = client.post("/focal/signout", data={"csrf": csrf})
        assert 'name="code"' in out.text  # signed out: the sign-in form again
        again = client.post("/focal/act", data={"csrf": csrf, "referral": rid, "action": "ack"})
        assert 'name="code"' in again.text


def test_rows_queued_in_telegram_form_show_in_the_page():
    """Other parts of the hotline (escalation notices) may queue Bot API style rows."""
    from bot.web.chat import _op

    op = _op(
        7,
        "sendMessage",
        {
            "chat_id": "s",
            "text": "hello",
            "reply_markup": {"inline_keyboard": [[{"text": "A", "callback_data": "1.a"}]]},
        },
    )
    assert op["op"] == "send"
    assert op["options"] == [{"data": "1.a", "label": "A", "audio": None, "pictogram": None}]
    assert _op(8, "deleteMessages", {"chat_id": "s"}) is None


@pytest.mark.parametrize(
    ("method", "payload"),
    [
        (
            "send",
            {
                "text": "Chào",
                "lang": "vi",
                "options": [
                    {"data": "1.a", "label": "A", "audio": "/audio/vi/a.ogg", "pictogram": "safe"},
                    {"data": "1.b", "label": "B"},
                    {"data": 3, "label": "not a choice"},
                    "nor this",
                ],
                "audio": ["/audio/vi/m.ogg", 5],
                "preload": ["/audio/vi/0.ogg"],
                "speak": True,
                "location": True,
                "tag": "ask",
            },
        ),
        ("edit", {"text": "Sửa", "tag": "ask", "lang": "xx"}),
        ("delete", {"tag": "code"}),
        ("delete", {"tag": 7}),
        ("clear", {}),
    ],
)
def test_each_operation_is_built_in_the_documented_shape(method, payload):
    """The chat's answers are serialised as _op built them, not validated again: each
    operation already holds exactly what the Op model documents."""
    from bot.web.chat import Op, _op

    op = _op(5, method, payload)
    assert Op.model_validate(op).model_dump() == op


def test_session_ids_are_signed_and_expire(live):
    from datetime import timedelta

    from bot.web.chat import check_session_id, new_session_id

    store, now, ttl = live.runtime.store, _now(), timedelta(hours=72)
    sid = new_session_id(store, now)
    assert check_session_id(store, sid, now, ttl)
    assert not check_session_id(store, sid, now + ttl + timedelta(minutes=1), ttl)
    body, _, mac = sid.rpartition(".")
    assert not check_session_id(store, body + "." + "0" * len(mac), now, ttl)


def test_focal_sessions_expire_server_side(live):
    from datetime import timedelta

    from bot.web import focal as web_focal
    from storage import conversations

    code = live.run(live.runtime.casework.invite("tanan-primary", now=_now()))
    code = code[0] if isinstance(code, tuple) else code
    with httpx.Client(base_url=live.url, follow_redirects=True) as client:
        assert _signin(live, client, code).status_code == 200
        token = client.cookies.get(web_focal.SESSION_COOKIE)
        store = live.runtime.store
        key = web_focal._session_key(store, token)

        async def age() -> None:  # as if the 8 hours had passed
            async with transaction(store.sessions) as session:
                row, state = await conversations.load(session, store.vault, key)
                state["exp"] = (_now() - timedelta(seconds=1)).timestamp()
                await conversations.save(
                    session, store.vault, key, state, now=_now(), ttl=timedelta(hours=1), row=row
                )

        live.run(age())
        page = client.get("/focal")
        assert 'name="code"' in page.text  # the sign-in form, with the "expired" note
        assert "Phiên làm việc đã hết hạn" in page.text

        async def gone() -> bool:
            async with transaction(store.sessions) as session:
                return (await conversations.load(session, store.vault, key))[0] is None

        assert live.run(gone())  # shredded, not just refused


def test_the_inbox_lists_what_the_chat_lets_a_focal_point_act_on(live, person):
    """Issue #18 finding 9: the chat let the commune and the province desk act on a case,
    the web inbox showed it to the assignee only. One rule now (routing.access.may_act):
    the province's other desk sees it; the commune's police desk, which she did not agree
    to (health only), does not."""
    reporter = person("vi")
    survivor_report(reporter)
    reporter.tap("send")
    reporter.receipt_code()
    reporter.tap("saved")
    case = _cases(live)[-1]
    assert case.consent_orgs == "health"
    for focal_point_id, shown in (("dl-desk-tuyhoa", True), ("bmt-police", False)):
        assert case.assigned_focal_point_id != focal_point_id
        code = live.run(live.runtime.casework.invite(focal_point_id, now=_now()))
        code = code[0] if isinstance(code, tuple) else code
        with httpx.Client(base_url=live.url, follow_redirects=True) as client:
            inbox = _signin(live, client, code)
        assert inbox.status_code == 200
        assert (case.ref in inbox.text) is shown, focal_point_id
