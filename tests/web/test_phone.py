"""The web chat on a cheap phone (issue 24): one test per finding, at 360×740 in Debian's
Chromium. Waits are on page conditions; the tab left open for a minute runs on the page's
clock (Playwright's ``page.clock``), not on a real sleep."""

from __future__ import annotations

import re

import httpx
import pytest

from bot.web import assets
from dialogs.i18n import translator
from tests.web.test_browser import (
    CODE,
    TIMEOUT_MS,
    PagePerson,
    report_in_the_page,
    to_the_account_in_the_page,
)

VI = translator("vi")
PHONE = {"width": 360, "height": 740}

# Every run of digits on the page that is one of the emergency numbers must sit in a tel: link.
_UNLINKED_NUMBERS = r"""() => {
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const parent = n.parentElement;
    if (!parent || parent.closest('script, noscript, [hidden]')) continue;
    for (const m of n.textContent.matchAll(/\d+(?:[ .\-]\d+)*/g)) {
      if (['113', '115', '111'].includes(m[0]) && !parent.closest('a[href^="tel:"]')) {
        found.push(m[0] + ' in ' + parent.className);
      }
    }
  }
  return found;
}"""

_TEL_BOXES = """() => [...document.querySelectorAll('a[href^="tel:"]')]
  .filter(a => a.offsetParent !== null)
  .map(a => { const r = a.getBoundingClientRect();
              return [a.getAttribute('href'), r.width, r.height]; })"""

# Where the newest bot message sits in the conversation: its top against the log's top, and
# whether the log is scrolled to its end.
_NEWEST = """() => {
  const log = document.getElementById('log');
  const all = log.querySelectorAll('.msg.bot');
  const box = all[all.length - 1];
  const top = box.getBoundingClientRect().top - log.getBoundingClientRect().top;
  const atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 2;
  return {top, atEnd, scrollTop: log.scrollTop, tall: box.offsetHeight > log.clientHeight,
          text: box.innerText.slice(0, 40)};
}"""


@pytest.fixture
def phone(browser):
    ctx = browser.new_context(viewport=PHONE, locale="vi-VN")
    try:
        yield ctx
    finally:
        ctx.close()


def _settled(page) -> None:
    """The page's script has put the session's own first screen in place."""
    page.wait_for_function(
        "() => !document.querySelector('[data-pre]') && sessionStorage.getItem('c.s')",
        timeout=TIMEOUT_MS,
    )


def _focal_replies(live, browser, text: str) -> None:
    """The demo focal point signs in, acknowledges the newest case and replies."""
    from datetime import UTC, datetime

    invited = live.run(live.runtime.casework.invite("bmt-primary-1", now=datetime.now(UTC)))
    ctx = browser.new_context(viewport={"width": 800, "height": 1000})
    try:
        focal = ctx.new_page()
        focal.goto(live.url + "/focal")
        focal.fill("#code", invited[0] if isinstance(invited, tuple) else invited)
        focal.click("form[action='/focal/signin'] button")
        card = focal.wait_for_selector("article.card", timeout=TIMEOUT_MS)
        ref = card.get_attribute("data-ref")
        focal.click(f"article[data-ref='{ref}'] form[action='/focal/act'] button.primary")
        focal.wait_for_selector("ul.notices", timeout=TIMEOUT_MS)
        focal.fill(f"article[data-ref='{ref}'] textarea[name='text']", text)
        focal.click(f"article[data-ref='{ref}'] button[value='reply']")
        focal.wait_for_selector("ul.thread li.focal_point", timeout=TIMEOUT_MS)
    finally:
        ctx.close()


# -- finding 1: the question is what the screen shows ------------------------------------------


def test_the_first_screen_starts_at_its_beginning_and_is_in_the_page_before_its_script(
    live, browser, phone, shots
):
    # without any script: the first screen is there, its numbers callable
    bare = browser.new_context(viewport=PHONE, java_script_enabled=False)
    try:
        page = bare.new_page()
        page.goto(live.url + "/?lang=vi")
        assert VI.gettext("start.safe") in page.inner_text("#log")
        assert page.locator("#log button[data-choice$='.safe']").count() == 1
        assert page.locator("#log a[href='tel:113']").count() >= 1
        shots(page, "no-script")
    finally:
        bare.close()

    page = phone.new_page()
    page.goto(live.url + "/?lang=vi")
    pre = page.inner_text("#log")
    _settled(page)
    assert page.inner_text("#log") == pre  # the session's own first screen is the same
    where = page.evaluate(_NEWEST)
    assert where["scrollTop"] == 0 and 0 <= where["top"] <= 16, where
    shots(page, "first-screen")


def test_a_tap_on_the_first_screen_before_the_session_exists_is_answered(live, phone, shots):
    """The first usable moment (bench/lighthouse_bench.py) is when the script is wired, not
    when the session is: a tap made while the session is still being opened waits for it."""
    page = phone.new_page()
    held = []
    page.route("**/api/chat/start", lambda route: held.append(route))  # held back
    page.goto(live.url + "/?lang=vi")
    page.wait_for_function("() => performance.getEntriesByName('chat-live').length === 1")
    assert len(held) == 1 and page.locator("[data-pre]").count() > 0  # no session yet
    page.click("#log button[data-choice$='.safe']")
    held[0].continue_()
    page.wait_for_function("() => document.querySelectorAll('#log .msg.me').length === 1")
    assert page.locator("#log .msg.me").inner_text() == VI.gettext("opt.safe_yes")
    page.wait_for_function(  # the tap was answered: the next question, under her answer
        "() => document.querySelector('#log .msg.me ~ .msg.bot button[data-choice$=\".me\"]')",
        timeout=TIMEOUT_MS,
    )
    assert page.locator("[data-pre]").count() == 0
    shots(page, "tapped-before-session")


def test_the_newest_question_shows_its_first_line_and_a_typed_answer_the_end(live, phone, shots):
    page = phone.new_page()
    person = PagePerson(page, shots)
    person.open(live.url, "vi")
    report_text = "CANARY-PHONE-SCROLL " + "tôi bị đánh. " * 40
    to_the_account_in_the_page(person, chat=True)
    person.say(report_text)
    person.tap("done", same_screen=True)
    person.tap("done")
    page.wait_for_selector("#log .msg.bot[data-summary] button.primary", timeout=TIMEOUT_MS)
    where = page.evaluate(_NEWEST)
    assert where["tall"], where  # the summary is taller than the screen …
    assert 0 <= where["top"] <= 16, where  # … and opens at its first line, not at its buttons
    assert VI.gettext("sum.title") in page.inner_text("#log .msg.bot[data-summary]")
    person.shot("summary-top")

    # a question answered by typing (only the emergency/language/exit options): the end
    other = phone.new_page()
    follow = PagePerson(other, shots)
    follow.open(live.url, "vi")
    follow.tap("safe")
    follow.tap("code")
    follow.wait_text(VI.gettext("fu.code"))
    where = other.evaluate(_NEWEST)
    assert where["atEnd"], where
    follow.shot("code-question-end")


# -- finding 2: her answers stay; one summary --------------------------------------------------


def test_each_tapped_choice_is_echoed_and_an_edited_summary_replaces_the_old_one(
    live, phone, shots
):
    page = phone.new_page()
    person = PagePerson(page, shots)
    person.open(live.url, "vi")
    person.tap("safe")
    mine = page.locator("#log .msg.me")
    page.wait_for_function("() => document.querySelectorAll('#log .msg.me').length === 1")
    assert mine.last.inner_text() == VI.gettext("opt.safe_yes")
    person.tap("me")
    page.wait_for_function("() => document.querySelectorAll('#log .msg.me').length === 2")
    assert mine.last.inner_text() == VI.gettext("menu.me")
    person.shot("echoed")

    page = phone.new_page()
    person = PagePerson(page, shots)
    person.open(live.url, "vi")
    report = "CANARY-PHONE-EDIT account"
    to_the_account_in_the_page(person, chat=True)
    person.say(report)
    person.tap("done", same_screen=True)
    person.tap("done")
    page.wait_for_selector("#log .msg.bot[data-summary]", timeout=TIMEOUT_MS)
    before = page.inner_text("#log .msg.bot[data-summary]")
    person.tap("fix")
    person.tap("when")  # the part to change: when it happened
    person.tap("month")
    page.wait_for_function(
        "b => { const s = document.querySelectorAll('#log .msg.bot[data-summary]');"
        " return s.length === 1 && s[0].innerText !== b; }",
        arg=before,
        timeout=TIMEOUT_MS,
    )
    summaries = page.locator("#log .msg.bot", has_text=VI.gettext("sum.title"))
    assert summaries.count() == 1  # the old summary with its old values is gone
    person.shot("summary-edited")


# -- finding 3: numbers that can be tapped ------------------------------------------------------


def test_every_emergency_number_is_a_tel_link_with_a_48px_target(live, phone, shots):
    page = phone.new_page()
    person = PagePerson(page, shots)
    person.open(live.url, "vi")
    _settled(page)
    person.tap("safe")  # a second screen: the emergency option's numbers too
    page.wait_for_function("() => document.querySelectorAll('#log .msg.bot').length >= 2")
    assert page.evaluate(_UNLINKED_NUMBERS) == []
    boxes = page.evaluate(_TEL_BOXES)
    hrefs = {href for href, _w, _h in boxes}
    assert {"tel:113", "tel:115", "tel:111"} <= hrefs
    in_bubbles = page.locator("#log .msg.bot .text a.tel").count()
    assert in_bubbles >= 1 and page.locator("#sos a.tel").count() == 3  # the intro names 113
    small = [box for box in boxes if box[1] < 48 or box[2] < 48]
    assert small == [], small
    person.shot("tel-links")


# -- finding 4: traces -----------------------------------------------------------------------------


def test_a_typed_receipt_code_is_removed_from_the_screen_once_used(live, phone, person, shots):
    from tests.web.driver import survivor_report

    reporter = person("vi")
    survivor_report(reporter, chat=True, account="CANARY-PHONE-CODE account")
    reporter.tap("send")
    code = reporter.receipt_code()
    assert code

    page = phone.new_page()
    follow = PagePerson(page, shots)
    follow.open(live.url, "vi")
    follow.tap("safe")
    follow.tap("code")
    follow.say(code)
    follow.wait_text(VI.gettext("fu.status", status=VI.gettext("status.notified")).split("\n")[0])
    page.wait_for_function(
        "c => !document.body.innerText.includes(c)", arg=code, timeout=TIMEOUT_MS
    )
    assert page.input_value("#text") == ""
    assert not CODE.search(page.inner_text("body"))
    follow.shot("code-gone")


def test_a_dismissible_safety_tip_on_first_load(live, phone, shots):
    page = phone.new_page()
    page.goto(live.url + "/?lang=vi")
    tip = page.locator("#tip")
    assert tip.is_visible()
    assert page.inner_text("#tip summary") == VI.gettext("web.tip")
    assert tip.bounding_box()["height"] <= 52  # one line
    shots(page, "tip")
    page.click("#tip summary")  # the how-to, for Android's Chrome and Zalo's browser
    assert VI.gettext("web.tip_android") in page.inner_text("#tip")
    assert VI.gettext("web.tip_zalo") in page.inner_text("#tip")
    close = page.locator("#tip-close")
    assert close.get_attribute("aria-label") == VI.gettext("web.tip_close")
    box = close.bounding_box()
    assert box["width"] >= 48 and box["height"] >= 48
    _settled(page)
    close.click()
    assert not tip.is_visible()
    page.reload()
    _settled(page)
    assert not page.locator("#tip").is_visible()  # closed for this tab
    fresh = phone.new_page()
    fresh.goto(live.url + "/?lang=vi")
    assert fresh.locator("#tip").is_visible()  # a first load again


# -- finding 5: the primary action ---------------------------------------------------------------


_LOOK = """el => { const s = getComputedStyle(el);
  return [s.backgroundColor, s.color, s.borderTopColor, s.borderTopWidth, s.fontWeight].join('|'); }"""


def test_send_report_is_the_primary_button_and_looks_apart(live, phone, shots):
    page = phone.new_page()
    person = PagePerson(page, shots)
    person.open(live.url, "vi")
    to_the_account_in_the_page(person, chat=True)
    person.say("CANARY-PHONE-PRIMARY account")
    done = page.wait_for_selector("#log button[data-choice$='.done']", timeout=TIMEOUT_MS)
    assert done.inner_text() == VI.gettext("opt.done")
    done_look = done.evaluate(_LOOK)
    person.tap("done", same_screen=True)
    person.tap("done")
    primary = page.wait_for_selector("#log button.primary", timeout=TIMEOUT_MS)
    assert page.locator("button.primary").count() == 1
    assert primary.inner_text() == VI.gettext("sum.send")
    answer = page.query_selector("#log button[data-choice$='.fix']")
    send = page.query_selector("#send")
    assert send.inner_text() == VI.gettext("web.send")
    looks = {
        "primary": primary.evaluate(_LOOK),
        "answer": answer.evaluate(_LOOK),
        "send": send.evaluate(_LOOK),
        "done": done_look,
    }
    assert len(set(looks.values())) == 4, looks  # each looks different from the others
    assert primary.bounding_box()["height"] > answer.bounding_box()["height"]
    assert primary.bounding_box()["width"] >= answer.bounding_box()["width"]
    person.shot("primary")


# -- finding 6: static files --------------------------------------------------------------------


def test_static_files_are_hashed_gzipped_and_cached_and_no_service_worker(live, phone):
    page = phone.new_page()
    seen: dict[str, dict] = {}
    page.on("response", lambda r: seen.__setitem__(r.url, r.headers))
    page.goto(live.url + "/?lang=vi")
    _settled(page)
    html = seen[live.url + "/?lang=vi"]
    assert html["cache-control"] == "no-store" and html.get("content-encoding") == "gzip"
    for name in ("chat.js", "chat.css"):
        address = assets.url(name)
        assert re.fullmatch(r"/static/\w+\.[0-9a-f]{12}\.\w+", address)
        headers = seen[live.url + address]
        assert headers["cache-control"] == "public, max-age=31536000, immutable"
        assert headers.get("content-encoding") == "gzip"
    assert page.evaluate("navigator.serviceWorker.getRegistrations().then(r => r.length)") == 0
    # the focal inbox's script and style are hashed too
    focal = httpx.get(live.url + assets.url("focal.js"), headers={"Accept-Encoding": "gzip"})
    assert focal.status_code == 200 and focal.headers["content-encoding"] == "gzip"
    assert focal.headers["cache-control"] == "public, max-age=31536000, immutable"
    plain = httpx.get(live.url + "/static/chat.js")  # the plain name, for older pages
    assert plain.status_code == 200 and plain.headers["cache-control"] == "no-cache"


# -- finding 7: a tab left open on the receipt -----------------------------------------------------


def test_a_tab_left_on_the_receipt_screen_keeps_its_session_and_gets_the_reply(
    live, browser, phone, shots
):
    page = phone.new_page()
    page.clock.install()
    armed: list[int] = []

    def polls(route):  # long polls of 1 s, so the page asks often; one 401 once armed
        if armed == [1]:
            armed.append(2)
            route.fulfill(status=401, body='{"detail": "unknown or expired session"}')
        else:
            route.continue_(url=route.request.url.replace("wait=25", "wait=1"))

    page.route("**/api/chat/poll*", polls)
    starts: list[str] = []
    page.on("request", lambda r: starts.append(r.url) if "/api/chat/start" in r.url else None)
    person = PagePerson(page, shots)
    person.open(live.url, "vi")
    report_in_the_page(person, chat=True, account="CANARY-PHONE-MINUTE account")
    person.receipt_code()
    session = page.evaluate("sessionStorage.getItem('c.s')")
    person.shot("receipt")

    # one refused poll (a proxy, a restarting server) must not cost her the session
    with page.expect_response(
        lambda r: "/api/chat/poll" in r.url and r.status == 401, timeout=TIMEOUT_MS
    ):
        armed.append(1)
    page.clock.run_for(60_000)  # a minute on the receipt screen
    assert page.evaluate("sessionStorage.getItem('c.s')") == session
    assert len(starts) == 1  # no new session was started
    assert CODE.search(page.inner_text("#log"))  # still on the receipt screen

    _focal_replies(live, browser, "CANARY-PHONE-LATER-REPLY")
    person.wait_text("CANARY-PHONE-LATER-REPLY")
    assert page.evaluate("sessionStorage.getItem('c.s')") == session
    assert len(starts) == 1
    person.shot("reply-arrived")
