"""Reply in place on the web chat (issue 18, finding 4): after the focal point's message,
a plain message in the same chat reaches the focal point and shows in the web inbox; the
case's close ends the tie. Through the JSON API and the focal inbox over HTTP."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx

from dialogs.i18n import translator
from dialogs.outbound import news_text
from tests.web.driver import survivor_report
from tests.web.test_api import _cases, _signin

TR = translator("vi")


def _act(client: httpx.Client, page: str, ref: str, action: str, **extra: str) -> httpx.Response:
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    card = page[page.index(f'data-ref="{ref}"') :]
    referral = re.search(r'name="referral" value="([^"]+)"', card).group(1)
    data = {"csrf": csrf, "referral": referral, "action": action, **extra}
    return client.post("/focal/act", data=data)


def test_a_plain_message_after_a_reply_reaches_the_web_inbox(live, person):
    reporter = person("vi")
    survivor_report(reporter, chat=True, account="CANARY-WEB-TIE-STORY")
    reporter.tap("send")
    reporter.tap("saved")
    ref = _cases(live)[-1].ref
    invite = live.run(live.runtime.casework.invite("bmt-primary-1", now=datetime.now(UTC)))

    with httpx.Client(base_url=live.url, follow_redirects=True) as client:
        inbox = _signin(live, client, invite)
        assert inbox.status_code == 200 and ref in inbox.text
        answered = _act(client, inbox.text, ref, "reply", text="CANARY-WEB-ASK Chị ổn không?")
        assert answered.status_code == 200

        reporter.say("CANARY-WEB-IN-PLACE Tôi ổn.")
        assert "CANARY-WEB-ASK Chị ổn không?" in reporter.text()  # the reply, pushed
        assert TR.gettext("fu.relayed") in reporter.messages[-1]["text"]
        assert TR.gettext("bad.choose") not in reporter.text()
        page = client.get("/focal").text
        assert "CANARY-WEB-IN-PLACE Tôi ổn." in page  # on the case, in the inbox

        assert _act(client, page, ref, "close", outcome="served", confirm="yes").status_code == 200
        reporter.say("CANARY-WEB-AFTER-CLOSE")
        assert news_text("vi", "closed") in reporter.text()
        assert TR.gettext("tie.gone") in reporter.messages[-1]["text"]
        assert "CANARY-WEB-AFTER-CLOSE" not in client.get("/focal").text
