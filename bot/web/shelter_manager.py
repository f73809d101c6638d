"""A shelter manager's web inbox: its shelter's occupancy and a form to set it.

The form posts to ``/focal/occupancy`` (:mod:`bot.web.focal`); the number goes to
:func:`bot.shelter_managers.web_set`, which decides (0..capacity, audited)."""

from __future__ import annotations

import html
from typing import Any

from bot import shelters
from dialogs.i18n import DEFAULT, translator
from dialogs.web_texts import FOCAL
from storage.models import FocalPoint, Shelter


def _t(name: str, **values: Any) -> str:
    return translator(DEFAULT).gettext(FOCAL[name], **values)


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


async def panel(session, desk, manager: FocalPoint, csrf: str) -> str:
    """The occupancy form of the manager's shelter ("" if it keeps none)."""
    shelter = await session.get(Shelter, manager.shelter_id) if manager.shelter_id else None
    if shelter is None:
        return ""
    name = await shelters.name_of(session, desk, shelter)
    label = _t("occupancy", shelter=name, capacity=shelter.capacity)
    return (
        '<form method="post" action="/focal/occupancy" class="occupancy">'
        f'<input type="hidden" name="csrf" value="{_e(csrf)}">'
        f'<label for="occupancy">{_e(label)}</label>'
        f'<input id="occupancy" name="occupancy" type="number" min="0" '
        f'max="{shelter.capacity}" value="{shelter.occupancy}" required>'
        f'<button type="submit">{_e(_t("occupancy_save"))}</button></form>'
    )
