"""The fake Bot API driven by a real aiogram Bot / Dispatcher (what the adapter will do)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import (
    BotCommand,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
)
from aiohttp import web

from tests.fakes import updates as U
from tests.fakes.aio import make_aiogram_bot, polling_dispatcher
from tests.fakes.bot_api import FakeBotAPI

CHAT = 424242


async def test_get_me(aiogram_bot: Bot, fake_bot_api: FakeBotAPI) -> None:
    me = await aiogram_bot.get_me()
    assert me.id == fake_bot_api.bot_id
    assert me.is_bot
    assert me.username == fake_bot_api.bot_username
    call = fake_bot_api.last_call("getMe")
    assert call is not None and call.ok and call.status == 200


async def test_send_edit_delete_reflected_in_chat_view(
    aiogram_bot: Bot, fake_bot_api: FakeBotAPI
) -> None:
    first = await aiogram_bot.send_message(CHAT, "Xin chào")
    second = await aiogram_bot.send_message(CHAT, "Bước 2")
    assert (first.message_id, second.message_id) == (1, 2)
    assert first.chat.id == CHAT and first.from_user and first.from_user.is_bot

    edited = await aiogram_bot.edit_message_text(
        "Bước 2 (đã sửa)", chat_id=CHAT, message_id=second.message_id
    )
    assert isinstance(edited, Message) and edited.edit_date is not None
    assert await aiogram_bot.delete_message(CHAT, first.message_id)

    visible = fake_bot_api.sent_messages(CHAT)
    assert [(m.message_id, m.text) for m in visible] == [(2, "Bước 2 (đã sửa)")]
    assert visible[0].edit_count == 1 and visible[0].history[0]["text"] == "Bước 2"
    everything = fake_bot_api.sent_messages(CHAT, include_deleted=True)
    assert [m.deleted for m in everything] == [True, False]
    assert fake_bot_api.visible_texts(CHAT) == ["Bước 2 (đã sửa)"]

    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await aiogram_bot.delete_message(CHAT, first.message_id)
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await aiogram_bot.edit_message_text("Bước 2 (đã sửa)", chat_id=CHAT, message_id=2)


async def test_polling_dispatcher_echoes_injected_update(
    aiogram_bot: Bot, fake_bot_api: FakeBotAPI
) -> None:
    router = Router()
    seen: list[dict[str, Any]] = []

    @router.message(F.text)
    async def echo(message: Message) -> None:
        seen.append(message.model_dump(exclude_none=True))
        await message.answer(f"echo: {message.text}")

    dp = Dispatcher()
    dp.include_router(router)
    async with polling_dispatcher(dp, aiogram_bot):
        uid = fake_bot_api.inject_update(U.text_update(CHAT, "Tôi cần giúp đỡ"))
        [reply] = await fake_bot_api.async_wait_for_sent(CHAT, contains="echo:")
        assert reply.text == "echo: Tôi cần giúp đỡ"
        # the user's message took message_id 1 in the chat, the answer 2
        assert reply.message_id == 2
        # aiogram confirms with offset=update_id+1 on its next getUpdates
        await fake_bot_api.async_wait_for(lambda: fake_bot_api.update_state(uid) == "confirmed")
    # the PTB-built payload carried the names (the adapter must drop them)
    assert seen[0]["from_user"]["username"] == U.DEFAULT_USERNAME
    polls = fake_bot_api.calls("getUpdates")
    assert polls[0].params["timeout"] == 5
    assert polls[0].params["allowed_updates"] == ["message"]


async def test_callback_query_answered(aiogram_bot: Bot, fake_bot_api: FakeBotAPI) -> None:
    router = Router()

    @router.callback_query(F.data.startswith("lang:"))
    async def on_lang(query: CallbackQuery) -> None:
        await query.answer("OK")
        assert query.message is not None
        await query.message.edit_text(f"Ngôn ngữ: {query.data}")

    dp = Dispatcher()
    dp.include_router(router)
    kb = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text="Tiếng Việt", callback_data="lang:vi"),
                InlineKeyboardButton(text="English", callback_data="lang:en"),
            ]
        ]
    )
    prompt = await aiogram_bot.send_message(CHAT, "Chọn ngôn ngữ", reply_markup=kb)
    async with polling_dispatcher(dp, aiogram_bot):
        update = U.callback_update(CHAT, "lang:vi", prompt.message_id)
        qid = update["callback_query"]["id"]
        fake_bot_api.inject_update(update)
        await fake_bot_api.async_wait_for_call("editMessageText", ok_only=True)
    assert fake_bot_api.callback_answers(qid) == [
        {
            "callback_query_id": qid,
            "text": "OK",
            "show_alert": False,
            "url": None,
            "cache_time": None,
        }
    ]
    [msg] = fake_bot_api.sent_messages(CHAT)
    assert msg.text == "Ngôn ngữ: lang:vi"
    assert msg.reply_markup is None  # edit without reply_markup removes the keyboard
    # answering twice is refused, like Telegram does
    with pytest.raises(TelegramBadRequest, match="query ID is invalid"):
        await aiogram_bot.answer_callback_query(qid)


async def test_429_surfaces_as_retry_after(aiogram_bot: Bot, fake_bot_api: FakeBotAPI) -> None:
    fake_bot_api.fail_next("sendMessage", status=429, retry_after=3)
    with pytest.raises(TelegramRetryAfter) as info:
        await aiogram_bot.send_message(CHAT, "một")
    assert info.value.retry_after == 3
    call = fake_bot_api.last_call("sendMessage")
    assert call is not None and call.status == 429 and not call.applied
    assert call.error == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }
    assert fake_bot_api.sent_messages(CHAT) == []  # a 429 means "not sent"
    await aiogram_bot.send_message(CHAT, "hai")
    assert [m.text for m in fake_bot_api.sent_messages(CHAT)] == ["hai"]


async def test_5xx_surfaces_as_server_error(aiogram_bot: Bot, fake_bot_api: FakeBotAPI) -> None:
    fake_bot_api.fail_next("sendMessage", status=500)
    with pytest.raises(TelegramServerError):
        await aiogram_bot.send_message(CHAT, "x")
    fake_bot_api.fail_next("sendMessage", status=502, body="<html>502 Bad Gateway</html>")
    with pytest.raises(ClientDecodeError):  # nginx HTML is not JSON: aiogram can't decode it
        await aiogram_bot.send_message(CHAT, "x")
    assert fake_bot_api.sent_messages(CHAT) == []


@pytest.mark.parametrize("applied", [False, True])
async def test_dropped_connection_is_network_error(
    aiogram_bot: Bot, fake_bot_api: FakeBotAPI, applied: bool
) -> None:
    await aiogram_bot.get_me()  # a kept-alive connection exists: drops hit it too
    fake_bot_api.drop_next("sendMessage", applied=applied)
    with pytest.raises(TelegramNetworkError):
        await aiogram_bot.send_message(CHAT, "mã biên nhận")
    assert len(fake_bot_api.sent_messages(CHAT)) == (1 if applied else 0)
    # a naive retry duplicates the message when the first one was applied
    await aiogram_bot.send_message(CHAT, "mã biên nhận")
    assert len(fake_bot_api.sent_messages(CHAT)) == (2 if applied else 1)
    outcomes = [(c.outcome, c.applied) for c in fake_bot_api.calls("sendMessage")]
    assert outcomes == [("dropped", applied), ("ok", True)]


async def test_delayed_answer_times_out_client_but_applies(fake_bot_api: FakeBotAPI) -> None:
    fake_bot_api.delay_next("sendMessage", 2.0)
    bot = make_aiogram_bot(fake_bot_api)
    try:
        with pytest.raises(TelegramNetworkError, match="timeout"):
            await bot.send_message(CHAT, "chậm", request_timeout=1)
    finally:
        await bot.session.close()
    assert [m.text for m in fake_bot_api.sent_messages(CHAT)] == ["chậm"]


async def test_webhook_delivery_with_secret_and_retry(
    aiogram_bot: Bot, fake_bot_api: FakeBotAPI
) -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []
    fail_first = [True]

    async def hook(request: web.Request) -> web.Response:
        if fail_first.pop() if fail_first else False:
            return web.Response(status=500)
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/tg", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        url = f"http://127.0.0.1:{port}/tg"
        assert await aiogram_bot.set_webhook(url, secret_token="s3cr3t-_Token")
        info = await aiogram_bot.get_webhook_info()
        assert info.url == url
        uid = fake_bot_api.inject_update(U.text_update(CHAT, "qua webhook"))
        await fake_bot_api.async_wait_for(lambda: fake_bot_api.update_state(uid) == "confirmed")
        assert received[0][0] == "s3cr3t-_Token"
        assert received[0][1]["message"]["text"] == "qua webhook"
        deliveries = fake_bot_api.webhook_deliveries()
        assert [d.status for d in deliveries] == [500, 200]  # retried after the failure
        info = await aiogram_bot.get_webhook_info()
        assert info.pending_update_count == 0
        assert (
            info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
        )
        # getUpdates is refused while a webhook is set
        with pytest.raises(Exception, match="Conflict"):
            await aiogram_bot.get_updates()
        assert await aiogram_bot.delete_webhook()
        assert (await aiogram_bot.get_webhook_info()).url == ""
    finally:
        await runner.cleanup()


async def test_webhook_reply_in_response_body_is_executed(
    aiogram_bot: Bot, fake_bot_api: FakeBotAPI
) -> None:
    from aiogram.webhook.aiohttp_server import SimpleRequestHandler

    router = Router()

    @router.message(F.text)
    async def answer(message: Message) -> Any:
        return message.answer("trả lời trong phản hồi webhook")

    dp = Dispatcher()
    dp.include_router(router)
    app = web.Application()
    SimpleRequestHandler(dp, aiogram_bot, handle_in_background=False, secret_token="abc").register(
        app, path="/wh"
    )
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        await aiogram_bot.set_webhook(f"http://127.0.0.1:{port}/wh", secret_token="abc")
        fake_bot_api.inject_update(U.text_update(CHAT, "xin chào"))
        call = await fake_bot_api.async_wait_for_call("sendMessage")
        assert call.transport == "webhook-response" and call.ok
        assert [m.text for m in fake_bot_api.sent_messages(CHAT)] == [
            "trả lời trong phản hồi webhook"
        ]
    finally:
        await runner.cleanup()


async def test_get_file_and_download(aiogram_bot: Bot, fake_bot_api: FakeBotAPI) -> None:
    data = b"OggS\x00fake voice bytes"
    fake_bot_api.register_file(data, file_id="VOICE-1", file_path="voice/file_1.oga")
    file = await aiogram_bot.get_file("VOICE-1")
    assert file.file_path == "voice/file_1.oga" and file.file_size == len(data)
    buf = await aiogram_bot.download_file(file.file_path)
    assert buf is not None and buf.read() == data
    with pytest.raises(TelegramBadRequest, match="invalid file_id"):
        await aiogram_bot.get_file("nope")


async def test_form_encoded_reply_markup_decoded(
    aiogram_bot: Bot, fake_bot_api: FakeBotAPI
) -> None:
    kb = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text="Có", callback_data="yes"),
                InlineKeyboardButton(
                    text="Gọi 113", url="tel:113".replace("tel:", "https://t.me/")
                ),
            ]
        ]
    )
    await aiogram_bot.send_message(CHAT, "123", reply_markup=kb)
    call = fake_bot_api.last_call("sendMessage")
    assert call is not None and call.transport == "form"
    assert isinstance(call.raw_params["reply_markup"], str)  # JSON string on the wire
    assert call.params["reply_markup"] == {
        "inline_keyboard": [
            [
                {"text": "Có", "callback_data": "yes"},
                {"text": "Gọi 113", "url": "https://t.me/113"},
            ]
        ]
    }
    assert call.params["text"] == "123"  # free text stays a string
    assert call.params["chat_id"] == CHAT
    [msg] = fake_bot_api.sent_messages(CHAT)
    assert msg.callback_data == ["yes"] and msg.button_texts == ["Có", "Gọi 113"]

    reply_kb = ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text="Gửi vị trí", request_location=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )
    await aiogram_bot.send_message(CHAT, "Vị trí?", reply_markup=reply_kb)
    assert fake_bot_api.reply_keyboard(CHAT) == {
        "keyboard": [[{"text": "Gửi vị trí", "request_location": True}]],
        "resize_keyboard": True,
        "one_time_keyboard": True,
    }


async def test_errors_wrong_token_unknown_method_bad_markup(fake_bot_api: FakeBotAPI) -> None:
    wrong = Bot(token="123:wrong", session=make_aiogram_bot(fake_bot_api).session)
    try:
        with pytest.raises(TelegramUnauthorizedError):
            await wrong.get_me()
    finally:
        await wrong.session.close()
    bot = make_aiogram_bot(fake_bot_api)
    try:
        with pytest.raises(TelegramNotFound):
            await bot.get_chat(CHAT)  # not implemented by the fake -> 404 Not Found
        with pytest.raises(TelegramBadRequest, match="can't parse entities"):
            await bot.send_message(CHAT, "a <b>b", parse_mode="HTML")
        with pytest.raises(TelegramBadRequest, match="Character '.' is reserved"):
            await bot.send_message(CHAT, "Gọi 113.", parse_mode="MarkdownV2")
        with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
            await bot.send_message(
                CHAT,
                "x",
                reply_markup=InlineKeyboardMarkup(
                    inline_keyboard=[[InlineKeyboardButton(text="x", callback_data="đ" * 33)]]
                ),
            )
        msg = await bot.send_message(CHAT, "<b>Khẩn cấp</b> &amp; 113", parse_mode="HTML")
        assert msg.text == "Khẩn cấp & 113"
        assert msg.entities and msg.entities[0].type == "bold" and msg.entities[0].length == 8
        assert await bot.set_my_commands([BotCommand(command="start", description="Bắt đầu")])
        assert [c.command for c in await bot.get_my_commands()] == ["start"]
        assert await bot.send_chat_action(CHAT, "typing")
        assert fake_bot_api.chat_actions(CHAT) == ["typing"]
    finally:
        await bot.session.close()


async def test_sync_wait_for_refuses_running_loop(fake_bot_api: FakeBotAPI) -> None:
    with pytest.raises(RuntimeError, match="async_wait_for"):
        fake_bot_api.wait_for(lambda: True)


async def test_builders_validate_with_aiogram(fake_bot_api: FakeBotAPI) -> None:
    from aiogram.types import Update

    payloads = [
        U.text_update(1, "hi", update_id=1, message_id=1),
        U.command_update(1, "/start abc", update_id=2, message_id=2),
        U.callback_update(1, "x", 5, update_id=3),
        U.location_update(1, 10.77, 106.7, update_id=4, message_id=3),
        U.voice_update(1, "V1", 7, update_id=5, message_id=4),
        U.photo_update(1, "P1", caption="ảnh", update_id=6, message_id=5),
        U.document_update(1, "D1", update_id=7, message_id=6),
        U.contact_update(1, "+84901234567", update_id=8, message_id=7),
        U.edited_text_update(1, 1, "hi!", update_id=9),
        U.blocked_update(1, update_id=10),
    ]
    parsed = [Update.model_validate(p) for p in payloads]
    assert parsed[1].message and parsed[1].message.entities
    assert parsed[1].message.entities[0].type == "bot_command"
    assert parsed[1].message.entities[0].length == len("/start")
    assert parsed[3].message and parsed[3].message.location
    assert parsed[3].message.location.latitude == pytest.approx(10.77)
    assert parsed[4].message and parsed[4].message.voice
    assert parsed[4].message.voice.duration == 7
    assert parsed[5].message and parsed[5].message.photo
    assert parsed[5].message.photo[-1].file_id == "P1"
    assert parsed[7].message and parsed[7].message.contact
    assert parsed[7].message.contact.user_id == 1
    assert parsed[9].my_chat_member and parsed[9].my_chat_member.new_chat_member.status == "kicked"
    for p in payloads:
        json.dumps(p)  # plain JSON types only
    anon = U.text_update(2, "x", first_name=None, last_name=None, username=None)
    assert "username" not in anon["message"]["from"]


async def test_polling_survives_getupdates_errors(
    aiogram_bot: Bot, fake_bot_api: FakeBotAPI
) -> None:
    from aiogram.utils.backoff import BackoffConfig

    router = Router()

    @router.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer("ok")

    dp = Dispatcher()
    dp.include_router(router)
    fake_bot_api.fail_next("getUpdates", status=429, retry_after=30)
    fake_bot_api.fail_next("getUpdates", status=502)
    fake_bot_api.drop_next("getUpdates", applied=False)
    fast = BackoffConfig(min_delay=0.05, max_delay=0.1, factor=1.3, jitter=0.0)
    async with polling_dispatcher(dp, aiogram_bot, backoff_config=fast):
        fake_bot_api.inject_update(U.text_update(CHAT, "còn đó không?"))
        await fake_bot_api.async_wait_for_sent(CHAT)
    outcomes = [c.outcome for c in fake_bot_api.calls("getUpdates")][:4]
    assert outcomes == ["injected", "injected", "dropped", "ok"]


async def test_python_telegram_bot_client_works_too(fake_bot_api: FakeBotAPI) -> None:
    import telegram

    async with telegram.Bot(
        fake_bot_api.token,
        base_url=f"{fake_bot_api.base_url}/bot",
        base_file_url=f"{fake_bot_api.base_url}/file/bot",
    ) as ptb:
        me = await ptb.get_me()
        assert me.id == fake_bot_api.bot_id
        msg = await ptb.send_message(CHAT, "từ PTB")
        assert msg.message_id == 1
        fake_bot_api.register_file(b"abc", file_id="F1", file_path="voice/f.oga")
        f = await ptb.get_file("F1")
        assert bytes(await f.download_as_bytearray()) == b"abc"
