"""bot.telegram.session: JSON bodies to the Bot API, multipart when a file goes along."""

from __future__ import annotations

from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup

from bot.telegram.runner import make_bot
from bot.telegram.session import StoredCall


async def test_calls_without_files_go_as_json_with_nested_objects(fake_bot_api):
    bot = make_bot(fake_bot_api.token, fake_bot_api.base_url)
    try:
        markup = InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="Có", callback_data="1.safe")]]
        )
        sent = await bot.send_message(
            4242, "Chào bạn", reply_markup=markup, disable_notification=False
        )
    finally:
        await bot.session.close()
    call = fake_bot_api.last_call("sendMessage")
    assert call.ok and call.transport == "json"
    assert call.raw_params["chat_id"] == 4242 and call.raw_params["text"] == "Chào bạn"
    assert call.raw_params["reply_markup"] == {
        "inline_keyboard": [[{"text": "Có", "callback_data": "1.safe"}]]
    }
    assert call.raw_params["disable_notification"] is False  # a form would drop it
    assert sent.message_id == call.result["message_id"]


async def test_a_file_still_goes_as_a_multipart_form(fake_bot_api):
    bot = make_bot(fake_bot_api.token, fake_bot_api.base_url)
    try:
        await bot.send_document(4242, BufferedInputFile(b"%PDF-1.4 test", filename="a.pdf"))
    finally:
        await bot.session.close()
    call = fake_bot_api.last_call("sendDocument")
    assert call.ok and call.transport == "multipart"
    assert b"%PDF-1.4 test" in call.files.values()


async def test_a_stored_call_goes_out_as_it_was_stored(fake_bot_api):
    class StoredSend(StoredCall):
        __api_method__ = "sendMessage"
        __returning__ = dict

    markup = {"inline_keyboard": [[{"text": "Có", "callback_data": "1.safe"}]]}
    bot = make_bot(fake_bot_api.token, fake_bot_api.base_url)
    try:
        await bot(
            StoredSend.model_validate(
                {"chat_id": 4242, "text": "Chào", "reply_markup": markup, "parse_mode": None}
            )
        )
    finally:
        await bot.session.close()
    call = fake_bot_api.last_call("sendMessage")
    assert call.ok and call.transport == "json"
    assert call.raw_params == {"chat_id": 4242, "text": "Chào", "reply_markup": markup}


def test_the_answer_classes_of_polling_survive_garbage_collection():
    """pydantic keeps ``Response[...]`` classes only weakly: one made anew for each answer
    cost about half a millisecond per update at a steady rate."""
    import gc
    import weakref

    from aiogram.methods import AnswerCallbackQuery, SendMessage
    from aiogram.methods.base import Response

    from bot.telegram import runner  # noqa: F401 - pins the classes
    from bot.telegram.polling import RawGetUpdates

    kept = [
        weakref.ref(Response[method.__returning__])
        for method in (RawGetUpdates, SendMessage, AnswerCallbackQuery)
    ]
    gc.collect()
    assert all(ref() is not None for ref in kept)
