"""Voice messages in the web chat over HTTP: the upload endpoint's refusals, the sealed
draft, the recording travelling with the report, and who may play it in /focal."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from bot.web import audio
from dialogs.i18n import translator
from storage import conversations, outbox
from storage.db import transaction
from storage.models import AuditEvent, Case, FocalPoint, Media, OutboxMessage
from storage.records import data_key_of, open_from
from tests.web import recordings as R
from tests.web.driver import WebPerson, survivor_report, to_the_account

DEMO_FOCAL = "bmt-primary-1"


def _now() -> datetime:
    return datetime.now(UTC)


def _key(live, sid: str) -> str:
    return conversations.conversation_key(live.runtime.store.vault, "web", sid)


def _rows(live, model, *where):
    async def read():
        async with transaction(live.runtime.store.sessions) as session:
            return list((await session.exec(select(model).where(*where))).all())

    return live.run(read())


def _forged(session: str) -> str:
    return session[:-1] + ("0" if session[-1] != "0" else "1")


def _latest_case(live) -> Case:
    """The newest case (creation times are kept to the minute: the audit chain orders)."""
    created = _rows(live, AuditEvent, AuditEvent.action == "case.created")
    newest = max(created, key=lambda event: event.seq).case_id
    (case,) = _rows(live, Case, Case.id == newest)
    return case


def _drafts(live, someone: WebPerson) -> list[Media]:
    return _rows(live, Media, Media.conversation_key == _key(live, someone.session))


def _received(lang: str, files: int) -> str:
    """What the bot answers when it took the recording(s)."""
    tr = translator(lang)
    return tr.gettext("acc.received", what=tr.ngettext("acc.n_files", "acc.n_files_pl", files))


def _invite(live, focal_point_id: str = DEMO_FOCAL) -> str:
    code = live.run(live.runtime.casework.invite(focal_point_id, now=_now()))
    return code[0] if isinstance(code, tuple) else code


def _signin(client: httpx.Client, code: str) -> httpx.Response:
    page = client.get("/focal").text
    pre = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    return client.post("/focal/signin", data={"code": code, "csrf": pre})


def _report_with_voice(person, recording: bytes, *, account: str = "") -> tuple[WebPerson, str]:
    """A report whose account is a recording (and optionally a text); returns the reporter
    and the receipt code."""
    someone = person("vi")
    to_the_account(someone, chat=True)
    answer = someone.voice(recording, ms=3000)
    assert answer.status_code == 200, answer.text
    if account:
        someone.say(account)
    someone.tap("done")
    someone.tap("done")
    someone.tap("send")
    code = someone.receipt_code()
    assert code is not None
    someone.tap("saved")
    return someone, code


# -- the upload endpoint ------------------------------------------------------------------------


def test_a_recording_is_sealed_acknowledged_and_sent_with_the_report(live, person):
    someone = person("en")
    to_the_account(someone, chat=True)
    marker = b"CANARY-VOICE-API-\xde\xad"
    answer = someone.voice(R.webm(3, marker=marker), ms=3000)
    assert answer.status_code == 200
    assert _received("en", 1) in someone.messages[-1]["text"]  # the bot took it
    drafts = _drafts(live, someone)
    assert len(drafts) == 1 and drafts[0].case_id is None
    media_id = drafts[0].id

    someone.say("CANARY-VOICE-TEXT and also this")
    someone.tap("done")
    someone.tap("done")
    someone.tap("send")
    assert someone.receipt_code() is not None

    (row,) = _rows(live, Media, Media.id == media_id)
    (case,) = _rows(live, Case, Case.id == row.case_id)
    assert row.conversation_key is None and row.data_key_id == case.data_key_id
    assert _drafts(live, someone) == []

    async def attachments():
        store = live.runtime.store
        async with transaction(store.sessions) as session:
            key = await data_key_of(session, store.vault, case)
            return open_from(store.vault, key, case, "attachments")

    assert live.run(attachments()) == [{"kind": "voice", "ref": f"web:{media_id}"}]
    path = Path(live.settings.database_url.split("///", 1)[1])
    raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    assert marker not in raw and b"CANARY-VOICE-TEXT" not in raw


def test_without_the_session_header_or_as_a_form_it_is_refused(live, person):
    someone = person()
    to_the_account(someone)
    before = len(_rows(live, Media))
    data = R.webm(2)
    no_header = httpx.post(
        live.url + "/api/chat/voice",
        params={"seq": 99},
        content=data,
        headers={"Content-Type": "audio/webm"},
    )
    assert no_header.status_code in (401, 422)
    forged = httpx.post(
        live.url + "/api/chat/voice",
        params={"seq": 99},
        content=data,
        headers={"Content-Type": "audio/webm", "X-Session": _forged(someone.session)},
    )
    assert forged.status_code == 401
    # what a cross-site form could send: a simple content type
    as_form = someone.voice(data, kind="text/plain")
    assert as_form.status_code == 415
    assert len(_rows(live, Media)) == before


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_too_long_or_too_large_is_413_with_a_kind_message(live, person, lang):
    someone = person(lang)
    to_the_account(someone)
    kind_words = translator(lang).gettext("web.voice_too_long")
    assert kind_words != "web.voice_too_long" and "2" in kind_words
    too_long = someone.voice(R.webm(131, unknown_sizes=True), lang=lang)  # the container says
    claimed = someone.voice(R.webm(2), ms=(audio.MAX_SECONDS + 60) * 1000, lang=lang)
    big = R.webm(2) + R.element(0xEC, bytes(audio.MAX_BYTES))  # padded past the limit
    too_big = someone.voice(big, lang=lang)

    def chunks():  # no Content-Length: the server stops reading at the limit
        yield big[: audio.MAX_BYTES // 2]
        yield big[audio.MAX_BYTES // 2 :]

    streamed = someone.http.post(
        "/api/chat/voice",
        params={"seq": someone.seq + 1, "lang": lang},
        content=chunks(),
        headers={"X-Session": someone.session, "Content-Type": "audio/webm"},
    )
    for answer in (too_long, claimed, too_big, streamed):
        assert answer.status_code == 413
        assert answer.json()["message"] == kind_words
    assert _drafts(live, someone) == []
    fine = someone.voice(R.webm(audio.MAX_SECONDS - 1, unknown_sizes=True), lang=lang)
    assert fine.status_code == 200 and len(_drafts(live, someone)) == 1


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        ("image/png", b"\x89PNG\r\n\x1a\n" + bytes(100)),
        ("audio/webm", R.ogg(2)),  # not what it claims
        ("audio/ogg", b"<html><script>alert(1)</script>"),
        ("audio/mp4", b""),
        ("application/json", b'{"kind": "voice"}'),
    ],
)
def test_anything_but_the_recording_it_claims_is_415(live, person, kind, data):
    someone = person("en")
    to_the_account(someone)
    answer = someone.voice(data, kind=kind, lang="en")
    assert answer.status_code == 415
    assert answer.json()["message"] == translator("en").gettext("web.voice_bad")
    assert _drafts(live, someone) == []


@pytest.mark.parametrize("kind", ["audio/ogg", "audio/mp4"])
def test_other_browsers_recordings_are_taken(live, person, kind):
    someone = person("en")
    to_the_account(someone)
    data = R.ogg(4) if kind == "audio/ogg" else R.mp4(4)
    assert someone.voice(data, kind=kind).status_code == 200
    assert _received("en", 1) in someone.messages[-1]["text"]
    assert len(_drafts(live, someone)) == 1


def test_a_recording_the_conversation_cannot_take_is_not_kept(live, person):
    someone = person("en")  # at the first question: no place for a recording
    answer = someone.voice(R.webm(2))
    assert answer.status_code == 200
    assert translator("en").gettext("bad.media") in someone.messages[-1]["text"]
    assert _drafts(live, someone) == []
    to_the_account(someone)
    assert someone.voice(R.webm(2)).status_code == 200
    resent = someone.voice(R.webm(2), seq=someone.seq)  # the same upload again
    assert resent.status_code == 200 and resent.json()["ops"] == []
    assert len(_drafts(live, someone)) == 1


def test_deleting_the_draft_deletes_its_recordings(live, person):
    someone = person("en")
    to_the_account(someone)
    assert someone.voice(R.webm(2)).status_code == 200
    assert someone.voice(R.webm(3)).status_code == 200
    assert _received("en", 2) in someone.messages[-1]["text"]
    ids = [row.id for row in _drafts(live, someone)]
    assert len(ids) == 2
    someone.event({"kind": "command", "name": "delete"}).raise_for_status()
    someone.tap("y")
    assert _rows(live, Media, Media.id.in_(ids)) == []


def test_the_chat_page_offers_the_microphone_with_its_limits(live):
    page = httpx.get(live.url + "/?lang=en")
    assert 'id="mic"' in page.text and " hidden " in page.text.split('id="mic"')[1][:40]
    assert f'"max_ms": {audio.MAX_SECONDS * 1000}' in page.text
    assert f'"max_bytes": {audio.MAX_BYTES}' in page.text
    texts = httpx.get(live.url + "/api/chat/texts", params={"lang": "en"}).json()
    assert texts["voice"] == "Record" and texts["voice_stop"] == "Stop and send"
    script = httpx.get(live.url + "/static/chat.js").text
    assert "MediaRecorder" in script and "getUserMedia" in script  # feature-detected


# -- focal points ---------------------------------------------------------------------------------


def _audit(live, action: str) -> list[AuditEvent]:
    events = _rows(live, AuditEvent, AuditEvent.action == action)
    return sorted(events, key=lambda event: event.seq)


def test_the_focal_inbox_plays_only_recordings_it_may_see(live, person):
    recording = R.webm(3, marker=b"CANARY-VOICE-FOCAL")
    reporter, code = _report_with_voice(person, recording)
    case = _latest_case(live)
    (row,) = _rows(live, Media, Media.case_id == case.id)
    played_before = len(_audit(live, "focal.web.media_played"))
    refused_before = len(_audit(live, "focal.web.media_refused"))

    assert httpx.get(f"{live.url}/focal/media/{row.id}").status_code == 403  # no session
    with httpx.Client(base_url=live.url, follow_redirects=True) as client:
        inbox = _signin(client, _invite(live))
        card = inbox.text[inbox.text.index(f'data-ref="{case.ref}"') :].split("</article>")[0]
        assert f'src="/focal/media/{row.id}"' in card and "<audio controls" in card
        assert "🎤" in card  # the card's note: how many, and where to listen
        played = client.get(f"/focal/media/{row.id}")
        assert played.status_code == 200 and played.content == recording
        assert played.headers["content-type"] == "audio/webm"
        assert played.headers["cache-control"] == "no-store"
        assert played.headers["x-content-type-options"] == "nosniff"
        assert client.get("/focal/media/" + "0" * 32).status_code == 404
        assert client.get("/focal/media/..%2Fstatic").status_code == 404
    played = _audit(live, "focal.web.media_played")
    assert len(played) == played_before + 1 and played[-1].case_id == case.id

    with httpx.Client(base_url=live.url, follow_redirects=True) as other:  # another commune
        inbox = _signin(other, _invite(live, "eakar-primary"))
        assert inbox.status_code == 200 and row.id not in inbox.text
        assert other.get(f"/focal/media/{row.id}").status_code == 404
    refused = _audit(live, "focal.web.media_refused")  # the unknown id, then not theirs
    assert [event.case_id for event in refused[refused_before:]] == [None, case.id]
    reporter.close()


def test_a_follow_up_recording_reaches_the_case_and_a_telegram_focal_point_is_told(live, person):
    """A focal point working on Telegram gets cards and relays that say a recording waits
    in the web inbox; nothing of the web reference reaches their chat."""
    code = _invite(live)
    bound = live.run(live.runtime.casework.redeem("telegram", "7001", 7001, code, now=_now()))
    assert bound == DEMO_FOCAL
    try:
        reporter, receipt = _report_with_voice(person, R.webm(2), account="CANARY-VOICE-CARD")
        card = _telegram_texts(live)[-1]
        tr = translator("vi")
        assert tr.gettext("focal.card.voice", n=1) in card and "CANARY-VOICE-CARD" in card
        assert "web:" not in card

        later = person("vi")
        later.tap("safe")
        later.tap("code")
        later.say(receipt)
        later.tap("add")
        assert later.voice(R.webm(2)).status_code == 200
        later.tap("done")
        (case,) = [c for c in _rows(live, Case) if c.ref in card]
        linked = _rows(live, Media, Media.case_id == case.id)
        assert len(linked) == 2 and _drafts(live, later) == []
        relay = _telegram_texts(live)[-1]
        assert tr.gettext("focal.from_survivor", ref=case.ref) in relay
        assert tr.gettext("focal.card.voice", n=1) in relay and "web:" not in relay
        with httpx.Client(base_url=live.url, follow_redirects=True) as client:
            inbox = _signin(client, _invite(live))
            card_html = inbox.text[inbox.text.index(f'data-ref="{case.ref}"') :]
            card_html = card_html.split("</article>")[0]
            for row in linked:  # the report's recording and the follow-up's, both playable
                assert f'src="/focal/media/{row.id}"' in card_html
    finally:
        live.run(live.runtime.casework.revoke(DEMO_FOCAL, now=_now()))


def _telegram_texts(live) -> list[str]:
    """The texts queued to the demo focal point's Telegram chat, oldest first."""

    async def read():
        store = live.runtime.store
        async with transaction(store.sessions) as session:
            focal = await session.get(FocalPoint, DEMO_FOCAL)
            query = (
                select(OutboxMessage)
                .where(
                    OutboxMessage.channel == "telegram",
                    OutboxMessage.queue_key == focal.identity_key,
                )
                .order_by(OutboxMessage.id)
            )
            out = []
            for message in (await session.exec(query)).all():
                payload = await outbox.payload_of(session, store.vault, message)
                out.append(payload.get("text", ""))
            return out

    return live.run(read())


def test_a_survivor_report_without_voice_is_unchanged(live, person):
    someone = person("vi")
    survivor_report(someone, chat=True, account="no voice here")
    someone.tap("send")
    assert someone.receipt_code() is not None
    assert _rows(live, Media, Media.case_id == _latest_case(live).id) == []
