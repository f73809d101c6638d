"""The shelters part of the province's page (``/focal/province``): each active shelter of
the province with its live occupancy and capacity (placements and its manager change
them), full ones marked, and one full for more than a day flagged: the same rule the
escalation scheduler's flag follows (:data:`bot.shelter_managers.FULL_FLAG_AFTER`, which
also tells the province desk in chat, once)."""

from __future__ import annotations

from datetime import datetime

from bot.shelter_managers import FULL_FLAG_AFTER
from bot.web.focal import _e
from dialogs.i18n import DEFAULT, translator
from dialogs.web_texts import DIRECTORY
from routing.places import PlaceCode, load_places
from storage import directory_edit
from storage.models import Shelter

LANG = DEFAULT


def _d(name: str, **values) -> str:
    return translator(LANG).gettext(DIRECTORY[name], **values)


def full_for_long(shelter: Shelter, now: datetime) -> bool:
    """Full, and so since more than FULL_FLAG_AFTER (or already flagged so)."""
    if shelter.occupancy < shelter.capacity:
        return False
    if shelter.full_flagged_at is not None:
        return True
    return shelter.full_since is not None and shelter.full_since <= now - FULL_FLAG_AFTER


async def shelters_html(session, vault, province_code: str, now: datetime) -> str:
    """The province's shelters as a table (a heading and a note when there are none)."""
    places = [p for p in await directory_edit.shelters_of(session, vault, province_code)]
    places = [p for p in places if p.row.active]
    heading = f'<h2 id="shelters-h">{_e(_d("shelters_h"))}</h2>'
    if not places:
        return heading + f'<p class="empty">{_e(_d("no_shelters"))}</p>'
    rows = []
    for place in places:
        row = place.row
        commune = load_places().commune(PlaceCode(row.place_scheme, row.commune_code))
        full = row.occupancy >= row.capacity
        long = full_for_long(row, now)
        mark = ""
        if long:
            mark = f'<span class="mark">{_e(_d("full_day"))}</span>'
        elif full:
            mark = f'<span class="mark">{_e(_d("full"))}</span>'
        css = ' class="full_day"' if long else (' class="full"' if full else "")
        rows.append(
            f'<tr data-shelter="{_e(row.id)}"{css}><td>{_e(place.name)}</td>'
            f"<td>{_e(commune.name if commune else row.commune_code)}</td>"
            f"<td>{row.occupancy}/{row.capacity}</td><td>{mark}</td></tr>"
        )
    head = "".join(
        f'<th scope="col">{_e(_d(k))}</th>' for k in ("name", "commune", "places", "state")
    )
    return (
        heading
        + '<div class="scroll"><table class="province shelters" aria-labelledby="shelters-h">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )
