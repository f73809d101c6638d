"""Issue 17 on the web: the danger questions raise the urgency and the inbox says why
(finding 6); a shared location reaches the inbox as a plain map link (finding 3); the web
chat asks for nothing it cannot take and does not send people to "the web chat instead of
this app" (finding 8). Through the web chat's JSON API and the /focal inbox over HTTP."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import httpx
from sqlmodel import select

from dialogs.i18n import translator
from storage.db import transaction
from storage.models import Case
from tests.web.driver import WebPerson

EA_KAR = (12.8120, 108.4560)


def vi(msgid: str, **values: object) -> str:
    return translator("vi").gettext(msgid, **values)


def _case(live, ref_before: set[str]) -> Case:
    async def read():
        async with transaction(live.runtime.store.sessions) as session:
            return [c for c in (await session.exec(select(Case))).all() if c.ref not in ref_before]

    (case,) = live.run(read())
    return case


def _refs(live) -> set[str]:
    async def read():
        async with transaction(live.runtime.store.sessions) as session:
            return {c.ref for c in (await session.exec(select(Case))).all()}

    return live.run(read())


def _inbox(live, focal_point_id: str) -> str:
    code = live.run(live.runtime.casework.invite(focal_point_id, now=datetime.now(UTC)))
    with httpx.Client(base_url=live.url, follow_redirects=True) as client:
        page = client.get("/focal").text
        pre = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        inbox = client.post("/focal/signin", data={"code": code, "csrf": pre})
        assert inbox.status_code == 200
        return inbox.text


def _card(page: str, ref: str) -> str:
    start = page.index(f'data-ref="{ref}"')
    return page[start : page.index("</article>", start)]


def test_strangled_and_afraid_to_go_home_is_high_and_the_inbox_says_why(live, person):
    before = _refs(live)
    someone: WebPerson = person("vi")
    for code in ("safe", "me", "phys", "done", "partner", "month"):
        someone.tap(code)
    assert vi("dq.strang") in someone.text()
    for answer in ("y", "n", "n", "y", "skip", "skip"):
        someone.tap(answer)
    assert vi("note.strangled") in someone.text()  # see a doctor: injuries can be hidden
    someone.say("buon ma thuot")
    for code in ("c0", "a26", "f", "n", "ede", "n", "done", "y", "health", "done", "n", "chat"):
        someone.tap(code)
    someone.say("Anh ấy bóp cổ tôi… tôi không dám về nhà.")
    someone.tap("done")
    someone.tap("done")
    summary = someone.messages[-1]["text"]
    assert vi("sign.strangulation") in summary and vi("sign.afraid_to_go_home") in summary
    someone.tap("send")
    assert someone.receipt_code()
    case = _case(live, before)
    assert case.urgency == "high"

    card = html.unescape(_card(_inbox(live, "bmt-primary-1"), case.ref))
    why = "; ".join((vi("sign.strangulation"), vi("sign.afraid_to_go_home")))
    assert vi("focal.card.urgency_why", urgency=vi("focal.urgency.high"), reasons=why) in card
    assert vi("focal.card.contact", contact=vi("focal.card.contact_chat")) in card


def test_a_shared_location_is_a_plain_map_link_in_the_inbox(live, person):
    before = _refs(live)
    someone: WebPerson = person("vi")
    someone.tap("danger")
    someone.event({"kind": "location", "lat": EA_KAR[0], "lon": EA_KAR[1]}).raise_for_status()
    someone.tap("me")
    assert someone.receipt_code()
    case = _case(live, before)

    async def holder() -> str:
        from storage.models import Referral

        async with transaction(live.runtime.store.sessions) as session:
            query = select(Referral).where(Referral.case_id == case.id)
            return (await session.exec(query)).one().focal_point_id

    card = _card(_inbox(live, live.run(holder())), case.ref)
    link = (
        "https://www.openstreetmap.org/?mlat=12.81200&amp;mlon=108.45600#map=17/12.81200/108.45600"
    )
    assert f'<a href="{link}" target="_blank" rel="noopener noreferrer">' in card
    assert "12.81200, 108.45600" in card
    assert "<img" not in card and "<iframe" not in card  # nothing loads from the map


def test_the_web_chat_asks_for_nothing_it_cannot_take(live, person):
    for lang in ("vi", "en"):
        tr = translator(lang)
        someone: WebPerson = person(lang)
        assert tr.gettext("ch.web.intro") in someone.text()
        someone.tap("more")  # "📖 Đọc thêm": the chat-app sentences are swapped for the web's
        intro = someone.text()
        assert tr.gettext("start.more") not in intro and tr.gettext("ch.web.more") in intro
        assert "this app" not in intro and "ứng dụng này" not in intro
        someone.tap("safe")
        someone.tap("other")  # a witness: the account prompt
        for code in ("friend", "y", "n", "n", "psy", "done", "skip", "skip", "none", "n", "n"):
            someone.tap(code)
        assert tr.gettext("ch.web.wt_acc") in someone.messages[-1]["text"]
        assert tr.gettext("wt.acc") not in someone.text()
        # the survivor's attachments step
        other: WebPerson = person(lang)
        for code in ("safe", "me", "skip", "skip", "skip"):
            other.tap(code)
        for _ in range(6 + 1 + 5):  # danger questions, place, about
            other.tap("skip")
        for code in ("done", "n", "n", "none", "done"):
            other.tap(code)
        prompt = other.messages[-1]["text"]
        assert prompt == tr.gettext("ch.web.att") and tr.gettext("sv.att") not in prompt
