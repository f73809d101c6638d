"""A shelter manager's part of the web inbox: its shelter's occupancy, and a form to set
it (bot.shelter_managers decides and audits)."""

from __future__ import annotations

import html
from typing import Any

from bot import shelters
from dialogs.i18n import DEFAULT, translator
from dialogs.web_texts import FOCAL
from storage.models import Shelter

LANG = DEFAULT


def _t(name: str, **values: Any) -> str:
    return translator(LANG).gettext(FOCAL[name], **values)


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


async def section(session, desk, manager, csrf: str) -> str:
    """The manager's shelter, how many stay there now, and the form to change it."""
    shelter = await session.get(Shelter, manager.shelter_id) if manager.shelter_id else None
    if shelter is None:
        return ""
    name = await shelters.name_of(session, desk, shelter)
    now = _t("occupancy_now", n=shelter.occupancy, capacity=shelter.capacity)
    return (
        f'<section class="shelter" data-shelter="{_e(shelter.id)}"><h2>{_e(name)}</h2>'
        f'<p class="occupancy">{_e(now)}</p>'
        '<form method="post" action="/focal/act" class="block">'
        f'<input type="hidden" name="csrf" value="{_e(csrf)}">'
        '<input type="hidden" name="referral" value="0">'
        '<input type="hidden" name="action" value="occupancy">'
        f'<label>{_e(_t("occupancy"))} <input name="text" inputmode="numeric" '
        f'type="number" min="0" max="{shelter.capacity}" value="{shelter.occupancy}" '
        "required></label>"
        f'<p class="hint">{_e(_t("occupancy_hint"))}</p>'
        f'<button type="submit">{_e(_t("occupancy_save"))}</button></form></section>'
    )
