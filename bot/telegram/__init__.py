"""The Telegram channel on aiogram 3.

aiogram is imported here first, with its types built on first use (bot.telegram.lazy_models):
every module of the channel imports it through this package.
"""

from bot.telegram.lazy_models import defer_aiogram_models

defer_aiogram_models()
