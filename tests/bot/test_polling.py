"""bot.telegram.polling: a getUpdates answer is stored as one commit group and confirmed to
Telegram only after it committed. A database failure in the batch rolls back what was not
committed yet, and those updates come again, each answered once; a bug in one update costs
only that update (the rest of the batch is handled again if the bug rolled it back)."""

from __future__ import annotations

import sqlite3
from contextlib import closing

from sqlalchemy.exc import OperationalError

import bot.resilience
from bot.runtime import Runtime
from bot.service import Hotline
from storage import conversations
from storage.db import commit_group, flush_group, transaction
from storage.records import new_data_key
from tests.driver_spy import spy_on_the_driver
from tests.e2e.test_telegram import settings_for
from tests.fakes import updates as U

USERS = [611_000_000_001, 611_000_000_002, 611_000_000_003]
LATER = 611_000_000_009


def _offsets(fake) -> list[int | None]:
    return [call.params.get("offset") for call in fake.calls("getUpdates")]


async def _run_batch(
    tmp_path, fake, monkeypatch, handle, answered=USERS
) -> tuple[list[int], list[str]]:
    """Queue one /start per user before the bot starts (so they come in one answer), run
    the bot with ``handle`` called before the hotline's, until ``answered`` got replies."""
    monkeypatch.setattr(bot.resilience, "FIRST_DELAY_S", 0.01)
    seen: list[str] = []
    real_handle = Hotline.handle

    async def wrapped(self, inbound):
        seen.append(inbound.user_id)
        if inbound.user_id != str(LATER):
            await handle(len(seen))
        return await real_handle(self, inbound)

    monkeypatch.setattr(Hotline, "handle", wrapped)
    ids = [fake.inject_update(U.command_update(user, "/start")) for user in USERS]
    runtime = await Runtime.start(settings_for(tmp_path, fake))
    try:
        for user in answered:
            await fake.async_wait_for_sent(chat_id=user, timeout=10)
        # One more update ends the long poll that confirmed the batch (it is recorded
        # when answered).
        fake.inject_update(U.command_update(LATER, "/start"))
        await fake.async_wait_for_sent(chat_id=LATER, timeout=10)
        await runtime.senders["telegram"].wait_idle()
    finally:
        await runtime.stop()
    return ids, [user for user in seen if user != str(LATER)]


async def _nothing(_: int) -> None:
    return None


async def test_a_batch_is_confirmed_once_all_of_it_is_stored(tmp_path, fake_bot_api, monkeypatch):
    ids, seen = await _run_batch(tmp_path, fake_bot_api, monkeypatch, _nothing)
    assert seen == [str(user) for user in USERS]
    offsets = _offsets(fake_bot_api)
    assert offsets[0] is None and offsets[1] == ids[-1] + 1  # one answer, one confirmation
    for user in USERS:
        assert len(fake_bot_api.calls("sendMessage", chat_id=user)) == 1


async def test_a_database_failure_mid_batch_takes_the_whole_batch_again(
    tmp_path, fake_bot_api, monkeypatch
):
    async def second_fails_once(count: int) -> None:
        if count == 2:
            raise OperationalError("INSERT", {}, ConnectionError("database is down"))

    ids, seen = await _run_batch(tmp_path, fake_bot_api, monkeypatch, second_fails_once)
    # The first was stored, then rolled back with the batch, and taken again: answered once.
    assert seen == [str(USERS[0]), str(USERS[1])] + [str(user) for user in USERS]
    offsets = _offsets(fake_bot_api)
    assert offsets[:2] == [None, None]  # nothing was confirmed after the failure
    assert offsets[2] == ids[-1] + 1
    for user in USERS:
        assert len(fake_bot_api.calls("sendMessage", chat_id=user)) == 1


async def test_updates_committed_before_a_failure_are_not_taken_again(
    tmp_path, fake_bot_api, monkeypatch
):
    async def commit_then_fail(count: int) -> None:
        if count == 2:  # the first is handled: a Bot API call now would commit it
            await flush_group()
            raise OperationalError("INSERT", {}, ConnectionError("database is down"))

    ids, seen = await _run_batch(tmp_path, fake_bot_api, monkeypatch, commit_then_fail)
    assert seen == [str(USERS[0]), str(USERS[1]), str(USERS[1]), str(USERS[2])]
    assert _offsets(fake_bot_api)[:3] == [None, ids[0] + 1, ids[-1] + 1]
    for user in USERS:
        assert len(fake_bot_api.calls("sendMessage", chat_id=user)) == 1


async def test_an_update_that_called_the_bot_api_is_not_taken_again(
    tmp_path, fake_bot_api, monkeypatch
):
    """A button's answer commits the press it follows (the handler stored it first): a
    database failure later in the batch must not apply that press a second time."""
    monkeypatch.setattr(bot.resilience, "FIRST_DELAY_S", 0.01)
    presser, starter = USERS[0], USERS[1]
    seen: list[str] = []
    real_handle = Hotline.handle

    async def wrapped(self, inbound):
        seen.append(inbound.user_id)
        if seen.count(str(starter)) == 1 and inbound.user_id == str(starter):
            raise OperationalError("INSERT", {}, ConnectionError("database is down"))
        return await real_handle(self, inbound)

    monkeypatch.setattr(Hotline, "handle", wrapped)
    pressed = fake_bot_api.inject_update(U.callback_update(presser, "x", message_id=1))
    fake_bot_api.inject_update(U.command_update(starter, "/start"))
    runtime = await Runtime.start(settings_for(tmp_path, fake_bot_api))
    try:
        await fake_bot_api.async_wait_for_sent(chat_id=starter, timeout=10)
    finally:
        await runtime.stop()
    assert seen == [str(presser), str(starter), str(starter)]  # the press once
    assert _offsets(fake_bot_api)[:2] == [None, pressed + 1]
    assert len(fake_bot_api.calls("answerCallbackQuery")) == 1


async def test_a_bug_in_one_update_costs_only_that_update(tmp_path, fake_bot_api, monkeypatch):
    async def second_is_a_bug(count: int) -> None:
        if count == 2:
            raise ValueError("a bug")

    ids, seen = await _run_batch(
        tmp_path, fake_bot_api, monkeypatch, second_is_a_bug, answered=[USERS[0], USERS[2]]
    )
    assert seen == [str(user) for user in USERS]  # not taken again
    assert _offsets(fake_bot_api)[1] == ids[-1] + 1
    assert not fake_bot_api.calls("sendMessage", chat_id=USERS[1])
    for user in (USERS[0], USERS[2]):
        assert len(fake_bot_api.calls("sendMessage", chat_id=user)) == 1


async def test_a_bug_inside_a_transaction_takes_the_rest_of_the_batch_again(
    tmp_path, fake_bot_api, monkeypatch
):
    """The bug rolls back the batch's shared transaction, the first update's work with
    it: the first is handled again, the second left out, the third handled once."""
    saves = 0
    real_save = conversations.save_state

    async def second_save_is_a_bug(*args, **kwargs):
        nonlocal saves
        saves += 1
        if saves == 2:
            raise ValueError("a bug")
        return await real_save(*args, **kwargs)

    monkeypatch.setattr(conversations, "save_state", second_save_is_a_bug)
    ids, seen = await _run_batch(
        tmp_path, fake_bot_api, monkeypatch, _nothing, answered=[USERS[0], USERS[2]]
    )
    assert seen == [str(USERS[0]), str(USERS[1]), str(USERS[0]), str(USERS[2])]
    assert _offsets(fake_bot_api)[1] == ids[-1] + 1
    assert not fake_bot_api.calls("sendMessage", chat_id=USERS[1])
    for user in (USERS[0], USERS[2]):
        assert len(fake_bot_api.calls("sendMessage", chat_id=user)) == 1


async def test_a_bot_api_call_inside_a_batch_commits_what_is_stored_first(tmp_path, fake_bot_api):
    runtime = await Runtime.start(settings_for(tmp_path, fake_bot_api), polling=False)
    path = tmp_path / "hotline.db"

    def data_keys() -> int:
        with closing(sqlite3.connect(path)) as reader:
            return reader.execute("SELECT count(*) FROM data_keys").fetchone()[0]

    try:
        before = data_keys()
        async with commit_group(runtime.store.sessions):
            async with transaction(runtime.store.sessions) as session:
                await new_data_key(session, runtime.store.vault)
            assert data_keys() == before  # held by the group
            await runtime.bot.get_me()  # e.g. a button's answer
            assert data_keys() == before + 1  # committed before the round trip
    finally:
        await runtime.stop()


async def test_an_update_aiogram_cannot_decode_is_skipped_and_polling_goes_on(
    tmp_path, fake_bot_api, caplog
):
    """Issue 23 finding 8: one undecodable update stopped polling for ever. Now it is
    logged by id only, skipped and confirmed; the next update is answered."""
    runtime = await Runtime.start(settings_for(tmp_path, fake_bot_api))
    try:
        poison = U.command_update(LATER, "/start")
        poison["message"]["forward_origin"] = {"type": "CANARY-POISON", "date": "never"}
        poison["message"]["text"] = "CANARY-POISON text"
        poison_id = fake_bot_api.inject_update(poison)
        fake_bot_api.inject_update(U.command_update(LATER, "/start"))
        await fake_bot_api.async_wait_for_sent(chat_id=LATER, timeout=20)
        await fake_bot_api.async_wait_for(
            lambda: any((o or 0) > poison_id for o in _offsets(fake_bot_api)), 20
        )  # confirmed: never asked for again
    finally:
        await runtime.stop()
    assert "CANARY-POISON" not in caplog.text and f"update {poison_id} could not" in caplog.text
    with closing(sqlite3.connect(tmp_path / "hotline.db")) as db:
        dump = "\n".join(db.iterdump())
    assert "CANARY-POISON" not in dump


async def test_an_update_that_fails_again_and_again_is_skipped_while_the_database_answers(
    tmp_path, fake_bot_api, monkeypatch, caplog
):
    """Issue 23 finding 8: an update whose storing fails every time (a database error it
    causes itself) held polling for ever. After POISON_AFTER failed batches stopping at it,
    with the database answering, it is skipped by id and the next one is answered."""
    from sqlalchemy.exc import DataError

    from bot.telegram.polling import POISON_AFTER

    monkeypatch.setattr(bot.resilience, "FIRST_DELAY_S", 0.01)
    monkeypatch.setattr(bot.resilience, "MAX_DELAY_S", 0.02)
    poison_user, tries = USERS[0], []
    real_handle = Hotline.handle

    async def handle(self, inbound):
        if inbound.user_id == str(poison_user):
            tries.append(inbound.update_id)
            raise DataError("INSERT", {}, ValueError("value too long"))
        return await real_handle(self, inbound)

    monkeypatch.setattr(Hotline, "handle", handle)
    poison_id = fake_bot_api.inject_update(U.command_update(poison_user, "/start CANARY-FAIL"))
    runtime = await Runtime.start(settings_for(tmp_path, fake_bot_api))
    try:
        fake_bot_api.inject_update(U.command_update(LATER, "/start"))
        await fake_bot_api.async_wait_for_sent(chat_id=LATER, timeout=20)
    finally:
        await runtime.stop()
    assert tries == [poison_id] * POISON_AFTER
    assert f"update {poison_id} failed {POISON_AFTER} times" in caplog.text
    assert "CANARY-FAIL" not in caplog.text
    assert not fake_bot_api.calls("sendMessage", chat_id=poison_user)


async def test_a_batch_whose_writes_fail_at_its_commit_is_taken_again_written_as_it_goes(
    tmp_path, fake_bot_api, monkeypatch
):
    """The batch's inserts wait for its commit; when they fail there, the batch is taken
    again with each update's writes made as it goes, and each is answered once."""
    real_insert = conversations._insert_states
    written: list[int] = []  # rows per deferred insert

    def fails_once(session, items):
        written.append(len(items))
        if len(written) == 1:
            raise OperationalError("INSERT", {}, ConnectionError("database is down"))
        real_insert(session, items)

    monkeypatch.setattr(conversations, "_insert_states", fails_once)
    ids, seen = await _run_batch(tmp_path, fake_bot_api, monkeypatch, _nothing)
    assert seen == [str(user) for user in USERS] * 2
    # Then nothing deferred for the batch taken again; the next batch defers again.
    assert written == [len(USERS), 1]
    for user in USERS:
        assert len(fake_bot_api.calls("sendMessage", chat_id=user)) == 1


async def test_updates_that_come_while_the_poller_lingers_share_one_answer_and_one_commit(
    tmp_path, fake_bot_api, monkeypatch
):
    """At a steady trickle, what arrives within LINGER_S of an answer waits for the next
    request and comes in it: one getUpdates, one commit for all of it, and every person is
    answered."""
    import bot.telegram.polling as polling

    fake, trickle = fake_bot_api, [611_000_000_021, 611_000_000_022, 611_000_000_023]
    waits: list[float] = []
    commits = 0
    real_group = polling.commit_group
    monkeypatch.setattr(polling, "LINGER_S", 60.0)  # "right behind it", however slow the machine

    async def lingering(seconds: float) -> None:  # the wait itself is not what is tested
        waits.append(seconds)
        if len(waits) == 1:  # the trickle arrives while the poller waits
            for user in trickle:
                fake.inject_update(U.command_update(user, "/start"))

    def counted_group(*args, **kwargs):
        nonlocal commits
        commits += 1
        return real_group(*args, **kwargs)

    monkeypatch.setattr(polling, "linger", lingering)
    monkeypatch.setattr(polling, "commit_group", counted_group)
    fake.inject_update(U.command_update(USERS[0], "/start"))
    runtime = await Runtime.start(settings_for(tmp_path, fake))
    try:
        for user in [USERS[0], *trickle]:
            await fake.async_wait_for_sent(chat_id=user, timeout=10)
        await runtime.senders["telegram"].wait_idle()
    finally:
        await runtime.stop()
    answers = [call.result for call in fake.calls("getUpdates") if call.result]
    assert [len(answer) for answer in answers[:2]] == [1, 3]
    assert commits == 2
    assert 59 < waits[0] <= 60


async def test_a_batch_reads_its_peoples_conversations_in_one_statement(
    tmp_path, fake_bot_api, monkeypatch
):
    """Each person's second message finds the state the first one left: read ahead for the
    whole batch, not one select per update."""
    from sqlalchemy import event

    fake = fake_bot_api
    reads: list[str] = []
    runtime = await Runtime.start(settings_for(tmp_path, fake))

    def seen(statement: str) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM conversations" in statement:
            reads.append(statement)

    @event.listens_for(runtime.store.engine.sync_engine, "before_cursor_execute")
    def _seen(_conn, _cursor, statement, _params, _context, _many) -> None:
        seen(statement)

    spy_on_the_driver(monkeypatch, seen)  # the read ahead goes to the driver itself

    try:
        for user in USERS:
            fake.inject_update(U.command_update(user, "/start"))
        for user in USERS:
            await fake.async_wait_for_sent(chat_id=user, timeout=10)
        before = {user: len(fake.calls(chat_id=user)) for user in USERS}
        reads.clear()
        for user in USERS:  # injected together: at most the first comes alone
            fake.inject_update(U.text_update(user, "1"))
        for user in USERS:  # each second message answered
            await fake.async_wait_for_call(chat_id=user, count=before[user] + 1, timeout=10)
    finally:
        await runtime.stop()
    assert 1 <= len(reads) < len(USERS)
