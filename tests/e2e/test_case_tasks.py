"""Follow-ups on a case: set in the web inbox with a due time (Viet Nam's clock), listed on
the card, reminded once in the assignee's bound chat (the fake Bot API) when due, never
when done."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from dialogs import focal_texts
from dialogs.i18n import translator
from routing.duty import LOCAL_TZ
from storage.db import transaction
from storage.models import CaseTask
from tests.e2e.test_province_view import _live_referral, _report, _signed_in
from tests.walk.stack import Stack

HINT = translator("vi").gettext("webf.task_hint")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with Stack(Path(tmp_path_factory.mktemp("tasks"))) as running:
        yield running


def _tasks(stack: Stack, case_id: str) -> list[CaseTask]:
    async def read():
        async with transaction(stack.store.sessions) as session:
            query = select(CaseTask).where(CaseTask.case_id == case_id)
            return list((await session.exec(query)).all())

    return stack.run(read())


def test_a_follow_up_is_reminded_once_in_the_chat_when_due(stack):
    case = _report(stack)
    holder = _live_referral(stack, case).focal_point_id
    client = _signed_in(stack, holder)
    page = client.get("/focal").text
    card = page[page.index(f'data-ref="{case.ref}"') :]
    assert HINT in card
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    referral = re.search(r'name="referral" value="([^"]+)"', card).group(1)
    due_local = (datetime.now(UTC) + timedelta(hours=2)).astimezone(LOCAL_TZ)
    for text, when in (("CANARY-TASK-CALL-BACK", due_local), ("CANARY-TASK-DONE", due_local)):
        form = {"csrf": csrf, "referral": referral, "action": "task", "text": text,
                "due": f"{when:%Y-%m-%dT%H:%M}"}  # fmt: skip
        assert client.post("/focal/act", data=form).status_code == 200
    bad = {"csrf": csrf, "referral": referral, "action": "task", "text": "x", "due": "soon"}
    assert client.post("/focal/act", data=bad).status_code == 400

    tasks = {t.id: t for t in _tasks(stack, case.id)}
    assert len(tasks) == 2
    for task in tasks.values():  # read in Viet Nam's clock, kept in UTC
        assert abs(task.due_at - due_local.replace(second=0, microsecond=0)) < timedelta(minutes=1)
    page = client.get("/focal").text
    start = page.index(f'data-ref="{case.ref}"')
    card = page[start : page.index("</article>", start)]
    assert "CANARY-TASK-CALL-BACK" in card and f"{due_local:%H:%M %d/%m}" in card
    done_id = re.search(
        r'CANARY-TASK-DONE<form[^>]*>.*?name="task" value="([0-9a-f]+)"', card
    ).group(1)
    form = {"csrf": csrf, "referral": referral, "action": "task_done", "task": done_id}
    assert client.post("/focal/act", data=form).status_code == 200

    assert stack.run(stack.runtime.casework.remind_tasks(now=datetime.now(UTC))) == 0  # not yet

    async def two_hours_pass() -> None:  # the due times move back instead of the clock on
        async with transaction(stack.store.sessions) as session:
            for task in (await session.exec(select(CaseTask))).all():
                task.due_at -= timedelta(hours=2, minutes=1)
                session.add(task)

    stack.run(two_hours_pass())
    assert stack.run(stack.runtime.casework.remind_tasks(now=datetime.now(UTC))) == 1
    stack.wait_sent()
    chat = [m.text or "" for m in stack.telegram.sent_messages(stack.focal_users[holder])]
    due = focal_texts.text("vi", "focal.task_due", ref=case.ref, task="CANARY-TASK-CALL-BACK")
    assert chat[-1] == due and not any("CANARY-TASK-DONE" in t for t in chat)
    assert stack.run(stack.runtime.casework.remind_tasks(now=datetime.now(UTC))) == 0  # once only
    client.close()
