"""Lên Tiếng conversation engine: pure, no channel, no I/O (DESIGN §1).

``handle(state, event, now) -> (state, actions, commands)``; see ``dialogs.events``,
``dialogs.actions`` and ``dialogs.commands`` for the types, ``dialogs.report`` for the shape
of a submitted report and ``dialogs.i18n`` for the catalogs.
"""

from dialogs.engine import (
    DEFAULT_TTL,
    STATE_VERSION,
    handle,
    has_draft,
    is_expired,
    keep_for,
    render_numbered,
)
from dialogs.i18n import LANGUAGES, catalog_status, preload

__all__ = [
    "DEFAULT_TTL",
    "LANGUAGES",
    "STATE_VERSION",
    "catalog_status",
    "preload",
    "handle",
    "has_draft",
    "is_expired",
    "keep_for",
    "render_numbered",
]
