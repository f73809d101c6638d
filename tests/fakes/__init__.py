"""Test fakes for Lên Tiếng's channels.

- :mod:`tests.fakes.bot_api`: a fake Telegram Bot API server (``FakeBotAPI``) that runs in a
  background thread on a loopback port and serves aiogram, subprocesses and raw HTTP clients.
- :mod:`tests.fakes.updates`: builders of update payloads made with python-telegram-bot's
  object model (an implementation independent of aiogram).
"""

from tests.fakes.bot_api import (
    DEFAULT_BOT_ID,
    DEFAULT_BOT_USERNAME,
    Call,
    ChatMessage,
    FakeBotAPI,
    RateViolation,
    WebhookDelivery,
)

__all__ = [
    "DEFAULT_BOT_ID",
    "DEFAULT_BOT_USERNAME",
    "Call",
    "ChatMessage",
    "FakeBotAPI",
    "RateViolation",
    "WebhookDelivery",
]
