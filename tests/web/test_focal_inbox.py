"""The focal inbox for daily work: titles that follow the case, times on messages, news
without reloading, closing with a reason and a confirmation, closed cases kept findable
(read-only) until retention deletes them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlmodel import select

from bot.web import focal as web_focal
from dialogs import focal_texts
from dialogs.i18n import translator
from dialogs.web_texts import FOCAL
from storage import conversations
from storage.db import transaction
from storage.models import Case
from tests.web.driver import survivor_report

NEW_TITLE = focal_texts.text("vi", "focal.card.title", ref="#").split("#")[0]
CASE_TITLE = focal_texts.text("vi", "focal.card.case", ref="#").split("#")[0]
CLOSED = translator("vi").gettext(FOCAL["closed_cases"])
READONLY = translator("vi").gettext("webf.readonly")
NEED_REASON = translator("vi").gettext(FOCAL["need_reason"])


def _now() -> datetime:
    return datetime.now(UTC)


def _case(live, ref: str) -> Case | None:
    async def read():
        async with transaction(live.runtime.store.sessions) as session:
            return (await session.exec(select(Case).where(Case.ref == ref))).first()

    return live.run(read())


def _refs(live) -> set[str]:
    async def read():
        async with transaction(live.runtime.store.sessions) as session:
            return set((await session.exec(select(Case.ref))).all())

    return live.run(read())


def _signed_in(live) -> httpx.Client:
    code = live.run(live.runtime.casework.invite("bmt-primary-1", now=_now()))
    code = code[0] if isinstance(code, tuple) else code
    client = httpx.Client(base_url=live.url, follow_redirects=True)
    pre = re.search(r'name="csrf" value="([^"]+)"', client.get("/focal").text).group(1)
    assert client.post("/focal/signin", data={"code": code, "csrf": pre}).status_code == 200
    return client


def _card(page: str, ref: str) -> str:
    start = page.index(f'data-ref="{ref}"')
    return page[start : page.index("</article>", start)]


def _report(person, live, account: str) -> tuple[str, object]:
    before = _refs(live)
    reporter = person("vi")
    survivor_report(reporter, chat=True, account=account)
    reporter.tap("send")
    (ref,) = _refs(live) - before
    return ref, reporter


@pytest.fixture
def client(live):
    signed_in = _signed_in(live)
    yield signed_in
    signed_in.close()


def _act(client: httpx.Client, page: str, ref: str, **data) -> httpx.Response:
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    referral = re.search(r'name="referral" value="([^"]+)"', _card(page, ref)).group(1)
    return client.post("/focal/act", data={"csrf": csrf, "referral": referral, **data})


def test_the_title_says_new_report_only_until_acknowledged(live, person, client):
    ref, _ = _report(person, live, "CANARY-INBOX-TITLE")
    page = client.get("/focal").text
    assert NEW_TITLE in _card(page, ref)
    assert _act(client, page, ref, action="ack").status_code == 200
    card = _card(client.get("/focal").text, ref)
    assert NEW_TITLE not in card and CASE_TITLE in card


def test_every_message_carries_its_time(live, person, client):
    ref, reporter = _report(person, live, "CANARY-INBOX-TIME")
    page = client.get("/focal").text
    _act(client, page, ref, action="reply", text="CANARY-INBOX-REPLY")
    thread = _card(client.get("/focal").text, ref)
    line = re.search(r"<li class=\"focal_point\">(.*?)</li>", thread).group(1)
    assert re.match(r'<time datetime="[^"]+">\d\d:\d\d \d\d/\d\d</time>', line)
    assert "CANARY-INBOX-REPLY" in line


def test_closing_needs_a_reason_and_a_confirmation(live, person, client):
    ref, _ = _report(person, live, "CANARY-INBOX-CONFIRM")
    page = client.get("/focal").text
    card = _card(page, ref)
    assert re.search(r'<select name="outcome" required><option value="">', card)
    assert 'name="confirm" value="yes" required' in card
    for data in ({"outcome": "served"}, {"confirm": "yes"}, {"outcome": "x", "confirm": "yes"}):
        refused = _act(client, page, ref, action="close", **data)
        assert refused.status_code == 400 and NEED_REASON in refused.text
        assert _case(live, ref).status != "closed"
    closed = _act(client, page, ref, action="close", outcome="declined", confirm="yes")
    assert closed.status_code == 200 and _case(live, ref).status == "closed"


def test_a_closed_case_stays_findable_read_only_until_retention_deletes_it(live, person, client):
    ref, _ = _report(person, live, "CANARY-INBOX-CLOSED")
    page = client.get("/focal").text
    _act(client, page, ref, action="close", outcome="served", confirm="yes")
    page = client.get("/focal").text
    closed = page[page.index(CLOSED) :]
    card = _card(closed, ref)
    assert READONLY in closed and "CANARY-INBOX-CLOSED" in card
    for action in ("ack", "reply", "ask", "transfer", "close", "note"):  # read-only: only reopen
        assert f'value="{action}"' not in card
    found = client.get("/focal", params={"ref": ref.lower()}).text
    assert found.count('data-ref="') == 1 and f'data-ref="{ref}"' in found

    retained = _case(live, ref).retain_until
    live.run(live.runtime.casework.retention_round(now=retained + timedelta(minutes=1)))
    assert _case(live, ref) is None
    assert f'data-ref="{ref}"' not in client.get("/focal").text


def test_news_changes_the_version_and_checking_keeps_no_idle_session_alive(live, person, client):
    _report(person, live, "CANARY-INBOX-NEWS")
    first = client.get("/focal/updates").json()["v"]
    assert first == re.search(r'data-version="([^"]+)"', client.get("/focal").text).group(1)
    assert client.get("/focal/updates").json()["v"] == first  # nothing new yet

    _report(person, live, "CANARY-INBOX-NEWS-2")  # a new card
    assert client.get("/focal/updates").json()["v"] != first

    store = live.runtime.store
    token = client.cookies.get(web_focal.SESSION_COOKIE)

    async def expiry():
        async with transaction(store.sessions) as session:
            row, _ = await conversations.load(
                session, store.vault, web_focal._session_key(store, token)
            )
            return row.expires_at

    before = live.run(expiry())
    client.get("/focal/updates")
    assert live.run(expiry()) == before
    client.get("/focal")
    assert live.run(expiry()) > before  # a page she opens does keep it alive

    client.cookies.clear()
    assert client.get("/focal/updates").status_code == 401


TIMEOUT_MS = 20_000


def test_the_page_shows_news_without_a_reload_and_never_over_a_half_typed_reply(
    live, person, browser
):
    """Chromium's clock is driven by the test (no waiting 20 s): an idle inbox reloads
    itself when a new card arrives; one with a half-typed reply only says there is news."""
    code = live.run(live.runtime.casework.invite("bmt-primary-1", now=_now()))
    code = code[0] if isinstance(code, tuple) else code
    context = browser.new_context(viewport={"width": 800, "height": 1000})
    try:
        page = context.new_page()
        page.clock.install()
        page.goto(live.url + "/focal")
        page.fill("#code", code)
        page.click("form[action='/focal/signin'] button")
        page.wait_for_selector("header.top", timeout=TIMEOUT_MS)

        ref, _ = _report(person, live, "CANARY-PAGE-NEWS")
        page.clock.run_for(21_000)
        page.wait_for_selector(f"article[data-ref='{ref}']", timeout=TIMEOUT_MS)

        page.fill(f"article[data-ref='{ref}'] textarea[name='text']", "half-typed")
        ref2, _ = _report(person, live, "CANARY-PAGE-NEWS-2")
        page.clock.run_for(21_000)
        page.wait_for_selector("p.updated:not([hidden])", timeout=TIMEOUT_MS)
        assert page.input_value(f"article[data-ref='{ref}'] textarea[name='text']") == "half-typed"
        assert page.query_selector(f"article[data-ref='{ref2}']") is None
    finally:
        context.close()


def test_an_internal_note_is_kept_on_the_case_and_never_reaches_the_reporter(live, person, client):
    ref, reporter = _report(person, live, "CANARY-INBOX-NOTE-STORY")
    code = reporter.receipt_code()
    page = client.get("/focal").text
    assert translator("vi").gettext("webf.note_hint") in _card(page, ref)
    assert _act(client, page, ref, action="note", text="CANARY-NOTE-1").status_code == 200
    thread = _card(client.get("/focal").text, ref)
    assert re.search(
        r'<li class="note"><time [^>]+>[^<]+</time> ✎ [^<]+ CANARY-NOTE-1</li>', thread
    )

    _act(client, client.get("/focal").text, ref, action="reply", text="CANARY-NOTE-REPLY")

    pushed = " ".join(op.get("text", "") for op in reporter.poll()["ops"])
    assert "CANARY-NOTE-REPLY" in pushed and "CANARY-NOTE-1" not in pushed
    later = person("vi")
    later.tap("safe")
    later.tap("code")
    later.say(code)
    assert "CANARY-NOTE-REPLY" in later.text() and "CANARY-NOTE-1" not in later.text()


def test_the_holder_reopens_a_closed_case_from_the_inbox(live, person, client):
    ref, _ = _report(person, live, "CANARY-INBOX-REOPEN")
    page = client.get("/focal").text
    _act(client, page, ref, action="close", outcome="served", confirm="yes")
    page = client.get("/focal").text
    closed = _card(page, ref)
    assert 'value="reopen"' in closed
    assert _act(client, page, ref, action="reopen").status_code == 200
    case = _case(live, ref)
    assert case.status == "notified" and case.retain_until is None  # retention stops
    card = _card(client.get("/focal").text, ref)
    assert "readonly" not in card and 'value="ack"' in card  # to take back
