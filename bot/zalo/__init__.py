"""The Zalo channel: Zalo's Bot Platform (a Telegram-style Bot API) on a small httpx client.

No buttons, no deleting or editing messages, no location or voice: options are numbered
choices, and texts that promise a deletion are swapped for honest ones
(:mod:`dialogs.channel_texts`). The engine, storage, routing and escalation are shared.
"""
