"""The web chat and the focal inbox in headless Chromium (Debian's), driven by Playwright.

Waits are on page conditions only: each prompt's buttons carry a counter
(``"<n>.<code>"``), so a tap waits for a prompt newer than the one answered last.
Screenshots of every step go to ``test-artifacts/web/``.
"""

from __future__ import annotations

import re

import pytest

from tests.dialogs.helpers import DANGER_SKIPPED

TIMEOUT_MS = 20_000
CODE = re.compile(r"(\d{4}[ -]?){3}\d{4}")

_FIND = """([code, floor]) => {
  let best = null;
  for (const b of document.querySelectorAll('#log button[data-choice]')) {
    const d = b.getAttribute('data-choice');
    const i = d.lastIndexOf('.');
    if (i < 1 || d.slice(i + 1) !== code) continue;
    const n = parseInt(d.slice(0, i), 16);
    if (n >= floor && (best === null || n >= best[1])) best = [d, n];
  }
  return best;
}"""


class PagePerson:
    """A person using the chat page."""

    def __init__(self, page, shots=None) -> None:
        self.page, self.shots, self.last_n = page, shots, -1

    def open(self, base: str, lang: str | None = None) -> None:
        self.page.goto(base + "/" + (f"?lang={lang}" if lang else ""))
        self.page.wait_for_selector("#log button[data-choice]", timeout=TIMEOUT_MS)

    def tap(self, code: str, *, same_screen: bool = False) -> None:
        floor = self.last_n if same_screen else self.last_n + 1
        handle = self.page.wait_for_function(_FIND, arg=[code, floor], timeout=TIMEOUT_MS)
        data, n = handle.json_value()
        self.last_n = n
        self.page.click(f'#log button[data-choice="{data}"]')

    def say(self, text: str) -> None:
        self.page.fill("#text", text)
        self.page.press("#text", "Enter")

    def wait_text(self, fragment: str) -> None:
        self.page.wait_for_function(
            "f => document.getElementById('log').innerText.includes(f)",
            arg=fragment,
            timeout=TIMEOUT_MS,
        )

    def receipt_code(self) -> str:
        self.page.wait_for_function(
            r"() => /(\d{4}[ -]?){3}\d{4}/.test(document.getElementById('log').innerText)",
            timeout=TIMEOUT_MS,
        )
        return CODE.search(self.page.inner_text("#log")).group(0)

    def shot(self, name: str) -> None:
        if self.shots is not None:
            self.shots(self.page, name)


def report_in_the_page(person: PagePerson, *, chat: bool, account: str) -> None:
    to_the_account_in_the_page(person, chat=chat)
    person.say(account)
    person.tap("done")
    person.tap("done")
    person.shot("summary")
    person.tap("send")


def to_the_account_in_the_page(person: PagePerson, *, chat: bool) -> None:
    person.tap("safe")
    person.tap("me")
    person.shot("flow-who")
    person.tap("phys")
    person.tap("psy", same_screen=True)
    person.tap("done", same_screen=True)
    person.tap("partner")
    person.tap("72h")
    for code in DANGER_SKIPPED:
        person.tap(code)
    person.say("buon ma thuot")
    person.tap("c0")
    person.shot("flow-place")
    for code in ("a26", "f", "n", "ede", "n", "med"):
        person.tap(code)
    person.tap("done", same_screen=True)
    person.tap("y")
    person.tap("health")
    person.tap("done", same_screen=True)
    person.tap("y")
    if chat:
        person.tap("chat")
    else:
        person.tap("phone")
        person.say("0912 345 678")
        person.tap("eve")


@pytest.fixture
def context(browser):
    ctx = browser.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN")
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_survivor_reports_from_the_page_to_the_receipt(live, context, shots, lang):
    page = context.new_page()
    person = PagePerson(page, shots)
    person.open(live.url, lang)
    assert page.evaluate("document.documentElement.lang") == lang
    person.shot("start")
    report_in_the_page(person, chat=False, account=f"CANARY-PAGE-{lang} account")
    code = person.receipt_code()
    person.shot("receipt")
    person.tap("saved")
    page.wait_for_function(
        r"() => !/(\d{4}[ -]?){3}\d{4}/.test(document.getElementById('log').innerText)",
        timeout=TIMEOUT_MS,
    )
    person.shot("saved")
    page.reload()  # the conversation comes back from the server, without the code
    page.wait_for_selector("#log .msg.bot", timeout=TIMEOUT_MS)
    assert code not in page.inner_text("#log")
    assert context.cookies() == []


def test_demo_focal_point_replies_and_the_survivor_reads_it(live, browser, shots):
    survivor_ctx = browser.new_context(viewport={"width": 360, "height": 740})
    focal_ctx = browser.new_context(viewport={"width": 800, "height": 1000})
    later_ctx = browser.new_context(viewport={"width": 360, "height": 740})
    try:
        survivor = PagePerson(survivor_ctx.new_page(), shots)
        survivor.open(live.url, "vi")
        report_in_the_page(survivor, chat=True, account="CANARY-PAGE-FOCAL account")
        code = survivor.receipt_code()
        survivor.tap("saved")

        focal = focal_ctx.new_page()
        focal.goto(live.url + "/focal")
        shots(focal, "focal-signin")
        focal.fill("#code", live.demo[1])
        focal.click("form[action='/focal/signin'] button")
        card = focal.wait_for_selector("article.card", timeout=TIMEOUT_MS)
        assert "CANARY-PAGE-FOCAL account" in card.inner_text()
        shots(focal, "focal-inbox")
        ref = card.get_attribute("data-ref")
        focal.click(f"article[data-ref='{ref}'] form[action='/focal/act'] button.primary")
        focal.wait_for_selector("ul.notices", timeout=TIMEOUT_MS)
        focal.fill(f"article[data-ref='{ref}'] textarea[name='text']", "CANARY-PAGE-REPLY Xin chào")
        focal.click(f"article[data-ref='{ref}'] button[value='reply']")
        focal.wait_for_selector("ul.thread li.focal_point", timeout=TIMEOUT_MS)
        shots(focal, "focal-replied")

        later = PagePerson(later_ctx.new_page(), shots)
        later.open(live.url, "vi")
        later.tap("safe")
        later.tap("code")
        later.say(code)
        later.wait_text("CANARY-PAGE-REPLY Xin chào")
        later.shot("survivor-reads-reply")
        # The reporter's own tab, still open, gets the reply by its long poll too.
        survivor.wait_text("CANARY-PAGE-REPLY Xin chào")
        survivor.shot("reporter-tab-reply")
    finally:
        for ctx in (survivor_ctx, focal_ctx, later_ctx):
            ctx.close()


def test_quick_exit_leaves_nothing_readable_in_the_tab(live, context, shots):
    page = context.new_page()
    person = PagePerson(page, shots)
    person.open(live.url, "vi")
    person.tap("safe")
    person.say("CANARY-EXIT-TEXT he hit me")
    person.tap("me")
    assert page.evaluate("sessionStorage.length") > 0
    entries = page.evaluate("history.length")  # about:blank, then the chat
    person.shot("before-exit")
    page.click("#exit")
    page.wait_for_url(live.url + "/n", timeout=TIMEOUT_MS)
    page.wait_for_load_state("load")
    person.shot("neutral")
    assert page.evaluate("sessionStorage.length") == 0
    assert page.evaluate("localStorage.length") == 0
    assert page.evaluate("history.length") == entries  # the chat's entry was replaced
    content = page.content()
    assert "CANARY-EXIT-TEXT" not in content and "data-choice" not in content
    assert context.cookies() == []
    page.go_back()  # what came before the chat, never the chat
    assert page.url == "about:blank"
    assert "CANARY-EXIT-TEXT" not in page.content()
    page.go_forward()
    assert page.url == live.url + "/n"


def test_location_button_shares_the_position_only_when_pressed(live, browser, shots):
    ctx = browser.new_context(
        viewport={"width": 360, "height": 740},
        permissions=["geolocation"],
        geolocation={"latitude": 12.6702, "longitude": 108.0441},  # Buôn Ma Thuột (sample)
    )
    try:
        page = ctx.new_page()
        page.add_init_script(
            "window.__asked = 0; const g = navigator.geolocation.getCurrentPosition.bind("
            "navigator.geolocation); navigator.geolocation.getCurrentPosition = "
            "(...a) => { window.__asked += 1; return g(...a); };"
        )
        person = PagePerson(page, shots)
        person.open(live.url, "en")
        for code in ("safe", "me", "phys"):
            person.tap(code)
        person.tap("done", same_screen=True)
        person.tap("partner")
        person.tap("72h")
        for code in DANGER_SKIPPED:
            person.tap(code)
        button = page.wait_for_selector("#log button[data-location]", timeout=TIMEOUT_MS)
        assert page.evaluate("window.__asked") == 0  # never before the person presses
        person.shot("location-offered")
        button.click()
        person.tap("c0")  # the nearest communes, to confirm
        person.shot("location-confirmed")
        assert page.evaluate("window.__asked") == 1
    finally:
        ctx.close()


def test_survivor_records_a_voice_message_and_the_focal_point_plays_it(
    live, microphone_browser, shots
):
    from datetime import UTC, datetime

    from bot.web import audio
    from dialogs.i18n import translator

    tr = translator("vi")
    survivor_ctx = microphone_browser.new_context(
        viewport={"width": 360, "height": 740}, permissions=["microphone"]
    )
    focal_ctx = microphone_browser.new_context(viewport={"width": 800, "height": 1000})
    try:
        page = survivor_ctx.new_page()
        person = PagePerson(page, shots)
        person.open(live.url, "vi")
        assert page.is_visible("#mic")  # this browser can record: the button shows
        to_the_account_in_the_page(person, chat=True)
        page.click("#mic")
        page.wait_for_selector("#mic.rec", timeout=TIMEOUT_MS)  # recording, visibly
        assert page.get_attribute("#mic", "aria-pressed") == "true"
        assert page.inner_text("#status") == tr.gettext("web.voice_recording")
        page.wait_for_function(  # let the clock pass two seconds, then stop
            "() => /1:|0:0[2-9]/.test(document.getElementById('mic-label').textContent)",
            timeout=TIMEOUT_MS,
        )
        person.shot("recording")
        page.click("#mic")
        received = tr.gettext("acc.received", what=tr.ngettext("acc.n_files", "acc.n_files_pl", 1))
        person.wait_text(received)  # the bot took the recording
        assert not page.is_visible("#mic.rec") and page.is_hidden("#status")
        assert tr.gettext("web.voice_sent") in page.locator("#log .msg.me").last.inner_text()
        person.shot("voice-received")
        person.tap("done", same_screen=True)
        person.tap("done")
        person.shot("summary")
        person.tap("send")
        person.receipt_code()  # the report's receipt is reached
        person.shot("receipt")
        person.tap("saved")

        invited = live.run(live.runtime.casework.invite("bmt-primary-1", now=datetime.now(UTC)))
        focal = focal_ctx.new_page()
        focal.goto(live.url + "/focal")
        focal.fill("#code", invited[0] if isinstance(invited, tuple) else invited)
        focal.click("form[action='/focal/signin'] button")
        player = focal.wait_for_selector("article.card ul.recordings audio", timeout=TIMEOUT_MS)
        card = focal.query_selector("article.card")
        assert tr.gettext("focal.card.voice", n=1) in card.inner_text()
        source = player.get_attribute("src")
        served = focal.request.get(live.url + source)
        assert served.status == 200 and served.headers["content-type"] == "audio/webm"
        assert served.headers["cache-control"] == "no-store"
        assert audio.sniff(served.body()) == audio.WEBM
        # The clock starts before the recorder's first block: a second of margin keeps the check
        # about what the microphone gave, not about how fast a loaded machine starts recording.
        assert audio.duration_s(audio.WEBM, served.body()) >= 1.0
        focal.evaluate("a => a.play()", player)
        focal.wait_for_function(  # it plays: time advances, no media error
            "a => a.error === null && (a.currentTime > 0.3 || a.ended)",
            arg=player,
            timeout=TIMEOUT_MS,
        )
        shots(focal, "focal-plays-voice")
    finally:
        survivor_ctx.close()
        focal_ctx.close()
