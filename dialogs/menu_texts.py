"""The bot's command menu (Telegram's setMyCommands), per language (pure)."""

from __future__ import annotations

from dialogs.i18n import DEFAULT, LANGUAGES, N_, translator

COMMANDS = (
    ("start", N_("cmd.start")),
    ("exit", N_("cmd.exit")),
    ("code", N_("cmd.code")),
    ("language", N_("cmd.language")),
    ("help", N_("cmd.help")),
    ("delete", N_("cmd.delete")),
)


def command_menu(lang: str) -> list[tuple[str, str]]:
    """``[(command, description), ...]`` in ``lang`` (falling back to Vietnamese)."""
    tr = translator(lang if lang in LANGUAGES else DEFAULT)
    return [(name, tr.gettext(msgid)) for name, msgid in COMMANDS]
