"""A focal point signs in to the web inbox again without an administrator: `/web` in the
chat account bound to them (Telegram or Zalo) sends a one-time code, the chat being the
second factor. The code opens a web session once, within its time, and binds no chat."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from bot.casework import WEB_CODE_TTL
from dialogs import focal_texts
from tests.fakes import updates as U
from tests.walk.stack import Stack

CODE = re.compile(r"\d{5}-\d{5}")
FOCAL = "bmt-primary-1"
SENT = focal_texts.text("vi", "focal.web_code", code="#", minutes=10).split("#")[0]
BOUND_TEXT = focal_texts.text("vi", "focal.bound", ref="#").split("#")[1]
BAD = focal_texts.text("vi", "focal.bad_code")
STRANGER = 915_999_000_001


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with Stack(Path(tmp_path_factory.mktemp("webcode"))) as running:
        yield running


def _telegram_says(stack: Stack, user: int, text: str) -> str:
    """What the hotline answered last in that Telegram chat."""
    update_id = stack.telegram.inject_update(U.text_update(user, text))
    stack.wait_telegram_handled(update_id)
    stack.wait_sent()
    return stack.telegram.sent_messages(user)[-1].text or ""


def _signin(stack: Stack, code: str) -> httpx.Response:
    with httpx.Client(base_url=stack.live.url, follow_redirects=True) as client:
        page = client.get("/focal").text
        pre = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        return client.post("/focal/signin", data={"code": code, "csrf": pre})


def test_web_in_the_bound_telegram_chat_sends_a_code_that_signs_in_once(stack):
    user = stack.focal_users[FOCAL]
    bound = [m.text or "" for m in stack.telegram.sent_messages(user)]
    assert any("/web" in t and BOUND_TEXT in t for t in bound)  # the binding told how

    answer = _telegram_says(stack, user, "/web")
    assert answer.startswith(SENT)
    code = CODE.search(answer).group(0)

    inbox = _signin(stack, code)
    assert inbox.status_code == 200 and 'action="/focal/signout"' in inbox.text
    assert _signin(stack, code).status_code == 403  # once only


def test_a_web_code_binds_no_other_chat(stack):
    answer = _telegram_says(stack, stack.focal_users[FOCAL], "/web")
    code = CODE.search(answer).group(0)
    # someone who saw the code tries it as an invite in their own chat
    update_id = stack.telegram.inject_update(U.command_update(STRANGER, f"/focal {code}"))
    stack.wait_telegram_handled(update_id)
    stack.wait_sent()
    assert BAD in (stack.telegram.sent_messages(STRANGER)[-1].text or "")
    assert _signin(stack, code).status_code == 200  # still the focal point's, on the web


def test_a_web_code_dies_after_its_time(stack):
    answer = _telegram_says(stack, stack.focal_users[FOCAL], "/web")
    code = CODE.search(answer).group(0)
    late = datetime.now(UTC) + WEB_CODE_TTL + WEB_CODE_TTL / 10
    tried = stack.run(
        stack.runtime.casework.try_invite("web", "late-tab", "late-tab", code, now=late)
    )
    assert tried.focal_point_id is None
    assert _signin(stack, code).status_code == 403  # and it was used up by the try


def test_web_in_a_bound_zalo_chat_sends_a_code(stack):
    invited = stack.run(stack.runtime.casework.invite("bmt-backup-1", now=datetime.now(UTC)))
    invite = invited[0] if isinstance(invited, tuple) else invited
    zalo_user = "zalo-focal-web-1"
    for text in (f"/focal {invite}", "/web"):
        target = stack.zalo_handled() + 1
        stack.zalo.inject_text(zalo_user, text)
        stack.wait_zalo_handled(target)
        stack.wait_sent()
    answer = stack.zalo.sent_messages(zalo_user)[-1].text or ""
    assert answer.startswith(SENT)
    assert _signin(stack, CODE.search(answer).group(0)).status_code == 200


def test_a_survivors_web_is_not_a_sign_in_request(stack):
    """Only a bound account gets a code: anyone else's `/web` goes to the survivor flow."""
    answer = _telegram_says(stack, STRANGER + 1, "/web")
    assert not CODE.search(answer) and SENT not in answer
