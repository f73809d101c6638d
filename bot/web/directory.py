"""The province's directory on the web: ``/focal/directory``, for a signed-in province desk.

Beside the CSV import (``hotline directory import``), the desk lists, adds, edits and
deactivates the focal points, agencies and shelters of ITS province, and issues invite
codes (shown once) for a person or a shelter's manager. One rule decides who may:
:func:`routing.access.may_edit_directory`. An entry typed here is checked by the import's
own rules (:mod:`routing.directory_form`) and stored by its upsert
(:mod:`storage.directory_edit`, which also says what a later import does to what was
deactivated here). Deactivating a person revokes it (:meth:`bot.casework.CaseworkService.revoke`:
its open cases are handed on). Every change is audited; forms carry the session's CSRF
token, as on the inbox and the province's cases page.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot import shelter_managers
from bot.casework import INVITE_TTL
from bot.web.chat import hotline_of
from bot.web.focal import (
    _e,
    _form,
    _load_session,
    _one,
    _page,
    _signed_in_focal,
    _signed_out,
    _t,
    utcnow,
)
from bot.web.security import constant_equal
from dialogs import focal_texts as T
from dialogs.i18n import DEFAULT, translator
from dialogs.web_texts import DIRECTORY
from routing.access import may_edit_directory
from routing.directory import Role, ShelterKind
from routing.directory_form import FormChecked, check_focal_point, check_shelter
from routing.places import PlaceCode, load_places
from storage import audit, directory_edit
from storage.db import transaction
from storage.directory_store import MANAGER
from storage.models import FocalPoint, Shelter

LANG = DEFAULT
_ID = re.compile(r"^[0-9A-Za-z_.-]{1,64}$")
_YES = "yes"

router = APIRouter(prefix="/focal/directory", include_in_schema=False)


def _d(name: str, **values: Any) -> str:
    return translator(LANG).gettext(DIRECTORY[name], **values)


def directory_link() -> str:
    """The label of the link to this page (from the province's page)."""
    return _d("link")


class _Refused(Exception):
    """The request is refused: answered with this response."""

    def __init__(self, response: Response) -> None:
        self.response = response


def _refused(status: int = 403) -> Response:
    body = (
        f'<p class="note" role="alert">{_e(_t("refused"))}</p>'
        f'<a href="/focal/directory">{_e(_d("title"))}</a>'
    )
    return HTMLResponse(_page(body, title=_d("title")), status_code=status)


async def _officer(request: Request, csrf: str | None = None) -> tuple[dict, FocalPoint]:
    """The signed-in province desk (and, for a post, its CSRF token checked)."""
    state = await _load_session(request)
    if state is None or state.get("expired"):
        raise _Refused(RedirectResponse("/focal", status_code=303))
    officer = await _signed_in_focal(request, state)
    if officer is None:
        raise _Refused(_signed_out(request))
    if csrf is not None and not constant_equal(state["csrf"], csrf):
        raise _Refused(_refused())
    if not may_edit_directory(officer, officer.province_code):
        raise _Refused(_refused())
    return state, officer


async def _audit(session, request: Request, action: str, officer: FocalPoint) -> None:
    await audit.append(
        session,
        hotline_of(request).store.keyring,
        action=action,
        actor_role="focal_point",
        actor_id=officer.id,
        at=utcnow(),
    )


def _commune_name(scheme: str, code: str | None) -> str:
    found = load_places().commune(PlaceCode(scheme, code)) if code else None
    return str(found.name) if found else (code or "—")


def _kind_label(kind: str) -> str:
    return _d(f"kind_{kind}") if f"kind_{kind}" in DIRECTORY else kind


def _hidden(csrf: str, **values: str) -> str:
    fields = {"csrf": csrf, **values}
    return "".join(f'<input type="hidden" name="{k}" value="{_e(v)}">' for k, v in fields.items())


def _button_form(action: str, csrf: str, label: str, *, confirm: str = "", **values: str) -> str:
    """A one-button form; with ``confirm``, a box to tick first (no script needed)."""
    ask = ""
    if confirm:
        ask = f'<label class="check"><input type="checkbox" name="sure" required> {_e(confirm)}</label>'
    return (
        f'<form method="post" action="/focal/directory/{action}" class="inline">'
        f'{_hidden(csrf, **values)}{ask}<button type="submit">{_e(label)}</button></form>'
    )


# -- the list ---------------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
async def directory(request: Request) -> Response:
    try:
        state, officer = await _officer(request)
    except _Refused as refused:
        return refused.response
    store = hotline_of(request).store
    async with transaction(store.sessions) as session:
        people = await directory_edit.people_of(session, store.vault, officer.province_code)
        places = await directory_edit.shelters_of(session, store.vault, officer.province_code)
        await _audit(session, request, "directory.viewed", officer)
    csrf = state["csrf"]
    rows = []
    for p in people:
        row = p.row
        actions = []
        if row.role != MANAGER:
            actions.append(
                f'<a href="/focal/directory/person?id={_e(row.id)}">{_e(_d("edit"))}</a>'
            )
        actions.append(_button_form("invite", csrf, _d("invite"), id=row.id))
        if row.active and row.id != officer.id:
            actions.append(
                _button_form(
                    "deactivate",
                    csrf,
                    _d("deactivate"),
                    confirm=_d("deactivate_confirm"),
                    id=row.id,
                )
            )
        state_text = _d("active") if row.active else _d("inactive")
        bound = _d("bound") if p.bound else _d("unbound")
        rows.append(
            f'<tr data-id="{_e(row.id)}"{"" if row.active else " class=inactive"}>'
            f"<td>{_e(p.name)}</td><td>{_e(T.role_label(LANG, row.role))}</td>"
            f"<td>{_e(_commune_name(row.place_scheme, row.commune_code))}</td>"
            f"<td>{_e(p.phone)}</td><td>{_e(state_text)} · {_e(bound)}</td>"
            f'<td class="actions">{"".join(actions)}</td></tr>'
        )
    head = "".join(
        f'<th scope="col">{_e(_d(k))}</th>'
        for k in ("name", "role", "commune", "phone", "state", "actions")
    )
    people_table = (
        f'<div class="scroll"><table class="province directory" aria-labelledby="people-h">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )
    srows = []
    for s in places:
        row = s.row
        actions = [
            f'<a href="/focal/directory/shelter?id={_e(row.id)}">{_e(_d("edit"))}</a>',
            _button_form(
                "shelter/active",
                csrf,
                _d("deactivate") if row.active else _d("reactivate"),
                confirm=_d("deactivate_confirm") if row.active else "",
                id=row.id,
                active="" if row.active else _YES,
            ),
        ]
        if row.active:
            actions.append(_button_form("shelter/manager", csrf, _d("invite_manager"), id=row.id))
        srows.append(
            f'<tr data-id="{_e(row.id)}"{"" if row.active else " class=inactive"}>'
            f"<td>{_e(s.name)}</td><td>{_e(_kind_label(row.kind))}</td>"
            f"<td>{_e(_commune_name(row.place_scheme, row.commune_code))}</td>"
            f"<td>{row.occupancy}/{row.capacity}</td>"
            f"<td>{_e(_d('active') if row.active else _d('inactive'))}</td>"
            f'<td class="actions">{"".join(actions)}</td></tr>'
        )
    shead = "".join(
        f'<th scope="col">{_e(_d(k))}</th>'
        for k in ("name", "kind", "commune", "places", "state", "actions")
    )
    shelter_table = (
        f'<div class="scroll"><table class="province directory" aria-labelledby="shelters-h">'
        f"<thead><tr>{shead}</tr></thead><tbody>{''.join(srows)}</tbody></table></div>"
        if srows
        else f'<p class="empty">{_e(_d("no_shelters"))}</p>'
    )
    body = (
        f'<header class="top"><h1>{_e(_d("title"))}</h1>'
        f'<a href="/focal/province">{_e(_t("province"))}</a></header>'
        f'<p class="hint">{_e(_d("hint"))}</p>'
        f'<h2 id="people-h">{_e(_d("people"))}</h2>'
        f'<p><a class="button" href="/focal/directory/person">{_e(_d("add_person"))}</a></p>'
        + people_table
        + f'<h2 id="shelters-h">{_e(_d("shelters"))}</h2>'
        f'<p><a class="button" href="/focal/directory/shelter">{_e(_d("add_shelter"))}</a></p>'
        + shelter_table
    )
    return HTMLResponse(_page(body, title=_d("title")))


# -- forms ------------------------------------------------------------------------------------


def _field(name: str, label: str, value: Any, *, kind: str = "text", extra: str = "") -> str:
    return (
        f'<label for="f-{name}">{_e(label)}</label>'
        f'<input id="f-{name}" name="{name}" type="{kind}" value="{_e(value)}" '
        f'maxlength="200"{extra}>'
    )


def _select(name: str, label: str, options: list[tuple[str, str]], chosen: str) -> str:
    opts = "".join(
        f'<option value="{_e(v)}"{" selected" if v == chosen else ""}>{_e(text)}</option>'
        for v, text in options
    )
    return (
        f'<label for="f-{name}">{_e(label)}</label>'
        f'<select id="f-{name}" name="{name}" required>{opts}</select>'
    )


def _communes(officer: FocalPoint) -> list[tuple[str, str]]:
    places = load_places()
    province = PlaceCode(officer.place_scheme, officer.province_code)
    return [(c.code.code, str(c.name)) for c in places.communes_in(province)]


def _form_page(action: str, title: str, fields: str, csrf: str, errors: tuple[str, ...]) -> str:
    problems = ""
    if errors:
        items = "".join(f"<li>{_e(e)}</li>" for e in errors)
        problems = f'<div class="note" role="alert"><p>{_e(_d("fix"))}</p><ul>{items}</ul></div>'
    return _page(
        f'<header class="top"><h1>{_e(title)}</h1>'
        f'<a href="/focal/directory">{_e(_d("cancel"))}</a></header>{problems}'
        f'<form method="post" action="/focal/directory/{action}" class="entry">'
        f'{_hidden(csrf)}{fields}<button type="submit" class="primary">{_e(_d("save"))}</button>'
        "</form>",
        title=title,
    )


def _person_fields(values: dict[str, str], officer: FocalPoint, new: bool) -> str:
    roles = [(r.value, T.role_label(LANG, r.value)) for r in Role]
    return (
        f'<input type="hidden" name="id" value="{_e(values.get("id", ""))}">'
        f'<input type="hidden" name="new" value="{_YES if new else ""}">'
        + _field("display_name", _d("name"), values.get("display_name", ""), extra=" required")
        + _select("role", _d("role"), roles, values.get("role", Role.PRIMARY.value))
        + _select("commune_code", _d("commune"), _communes(officer), values.get("commune_code", ""))
        + _field("phone", _d("phone"), values.get("phone", ""), kind="tel", extra=" required")
        + _field("languages", _d("languages"), values.get("languages", "vi"))
        + _field("duty_hours", _d("duty_hours"), values.get("duty_hours", "24/7"))
        + _field("lat", _d("lat"), values.get("lat", ""), extra=' inputmode="decimal" required')
        + _field("lon", _d("lon"), values.get("lon", ""), extra=' inputmode="decimal" required')
    )


def _shelter_fields(values: dict[str, str], officer: FocalPoint, new: bool) -> str:
    kinds = [(k.value, _kind_label(k.value)) for k in ShelterKind]
    yes_no = [(_YES, _d("yes")), ("no", _d("no"))]
    return (
        f'<input type="hidden" name="id" value="{_e(values.get("id", ""))}">'
        f'<input type="hidden" name="new" value="{_YES if new else ""}">'
        + _field("name", _d("name"), values.get("name", ""), extra=" required")
        + _select(
            "kind", _d("kind"), kinds, values.get("kind", ShelterKind.COMMUNITY_SHELTER.value)
        )
        + _select("commune_code", _d("commune"), _communes(officer), values.get("commune_code", ""))
        + _field(
            "capacity",
            _d("capacity"),
            values.get("capacity", ""),
            kind="number",
            extra=' min="0" max="9999" required',
        )  # fmt: skip
        + _select("accepts_children", _d("children"), yes_no, values.get("accepts_children", "no"))
        + _select(
            "wheelchair_accessible",
            _d("wheelchair"),
            yes_no,
            values.get("wheelchair_accessible", "no"),
        )  # fmt: skip
        + _field("languages", _d("languages"), values.get("languages", "vi"))
        + _field("lat", _d("lat"), values.get("lat", ""), extra=' inputmode="decimal" required')
        + _field("lon", _d("lon"), values.get("lon", ""), extra=' inputmode="decimal" required')
    )


@router.get("/person", response_class=HTMLResponse)
async def person_form(request: Request, id: str = "") -> Response:
    try:
        state, officer = await _officer(request)
    except _Refused as refused:
        return refused.response
    values: dict[str, str] = {}
    if id:
        store = hotline_of(request).store
        async with transaction(store.sessions) as session:
            found = await directory_edit.person(session, store.vault, id) if _ID.match(id) else None
        if found is None or found.row.role == MANAGER:
            return _refused(404)
        if not may_edit_directory(officer, found.row.province_code):
            return _refused()
        row = found.row
        values = {
            "id": row.id, "display_name": found.name, "role": row.role,
            "commune_code": row.commune_code or "", "phone": found.phone,
            "languages": row.languages, "duty_hours": row.duty_hours,
            "lat": "" if row.lat is None else str(row.lat),
            "lon": "" if row.lon is None else str(row.lon),
        }  # fmt: skip
    fields = _person_fields(values, officer, new=not id)
    title = _d("edit") if id else _d("add_person")
    return HTMLResponse(_form_page("person", title, fields, state["csrf"], ()))


def _values(form: dict[str, list[str]], names: tuple[str, ...]) -> dict[str, str]:
    return {name: _one(form, name, 200) for name in names}


_PERSON = ("id", "new", "display_name", "role", "commune_code", "phone", "languages",
           "duty_hours", "lat", "lon")  # fmt: skip
_SHELTER = ("id", "new", "name", "kind", "commune_code", "capacity", "accepts_children",
            "wheelchair_accessible", "languages", "lat", "lon")  # fmt: skip


def _new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(5)}"


@router.post("/person")
async def person_save(request: Request) -> Response:
    form = await _form(request)
    try:
        state, officer = await _officer(request, _one(form, "csrf", 64))
    except _Refused as refused:
        return refused.response
    values = _values(form, _PERSON)
    new = values["new"] == _YES
    if new:
        values["id"] = _new_id(values["role"].replace("_", "")[:12] or "fp")
    elif not _ID.match(values["id"]):
        return _refused()
    store = hotline_of(request).store
    checked: FormChecked = check_focal_point(values, officer_id=officer.id)
    record = checked.focal_point
    if record is None or not may_edit_directory(officer, record.province_code.code):
        errors = checked.errors or (_t("refused"),)
        fields = _person_fields(values if not new else values | {"id": ""}, officer, new)
        page = _form_page(
            "person", _d("add_person") if new else _d("edit"), fields, state["csrf"], errors
        )
        return HTMLResponse(page, status_code=400)
    async with transaction(store.sessions) as session:
        existing = await session.get(FocalPoint, record.id)
        if new != (existing is None) or (
            existing is not None
            and (
                existing.role == MANAGER or not may_edit_directory(officer, existing.province_code)
            )
        ):
            return _refused()
        await directory_edit.save_person(session, store.vault, record, now=utcnow())
        await _audit(
            session,
            request,
            "directory.person_added" if new else "directory.person_edited",
            officer,
        )
    await request.app.state.runtime.reload_directory()  # routing sees it at once
    return RedirectResponse("/focal/directory", status_code=303)


async def _person_posted(request: Request) -> tuple[FocalPoint, FocalPoint]:
    """The officer and the person a button posted about, when the rule lets it act."""
    form = await _form(request)
    _state, officer = await _officer(request, _one(form, "csrf", 64))
    person_id = _one(form, "id", 64)
    store = hotline_of(request).store
    async with transaction(store.sessions) as session:
        row = await session.get(FocalPoint, person_id) if _ID.match(person_id) else None
    if row is None or not may_edit_directory(officer, row.province_code):
        raise _Refused(_refused())
    return officer, row


@router.post("/deactivate")
async def deactivate(request: Request) -> Response:
    """Revoke a person: unbound, out of routing, its open cases handed on at once."""
    try:
        officer, row = await _person_posted(request)
    except _Refused as refused:
        return refused.response
    if row.id == officer.id:
        return _refused()  # a desk does not lock itself out: another desk or the CLI does
    runtime = request.app.state.runtime
    await runtime.casework.revoke(row.id, now=utcnow())
    store = hotline_of(request).store
    async with transaction(store.sessions) as session:
        await _audit(session, request, "directory.person_deactivated", officer)
    await runtime.reload_directory()
    runtime.casework.wake()  # the escalation worker hands the open cases on now
    return RedirectResponse("/focal/directory", status_code=303)


def _code_page(code: str) -> HTMLResponse:
    body = (
        f'<header class="top"><h1>{_e(_d("invite_code"))}</h1>'
        f'<a href="/focal/directory">{_e(_d("title"))}</a></header>'
        f'<p class="invite-code" data-code="{_e(code)}"><strong>{_e(code)}</strong></p>'
        f'<p class="hint">{_e(_d("invite_once", days=max(1, INVITE_TTL.days)))}</p>'
    )
    response = HTMLResponse(_page(body, title=_d("invite_code")))
    response.headers["Cache-Control"] = "no-store"  # shown once: never kept by a browser
    return response


@router.post("/invite")
async def invite(request: Request) -> Response:
    """A one-time invite code for a person (a revoked one is taken back by it)."""
    try:
        officer, row = await _person_posted(request)
    except _Refused as refused:
        return refused.response
    runtime = request.app.state.runtime
    code = await runtime.casework.invite(row.id, now=utcnow())
    store = hotline_of(request).store
    async with transaction(store.sessions) as session:
        await _audit(session, request, "directory.invite_issued", officer)
    await runtime.reload_directory()
    return _code_page(code)


# -- shelters ---------------------------------------------------------------------------------


@router.get("/shelter", response_class=HTMLResponse)
async def shelter_form(request: Request, id: str = "") -> Response:
    try:
        state, officer = await _officer(request)
    except _Refused as refused:
        return refused.response
    values: dict[str, str] = {}
    if id:
        store = hotline_of(request).store
        async with transaction(store.sessions) as session:
            found = (
                await directory_edit.shelter(session, store.vault, id) if _ID.match(id) else None
            )
        if found is None:
            return _refused(404)
        if not may_edit_directory(officer, found.row.province_code):
            return _refused()
        row = found.row
        values = {
            "id": row.id, "name": found.name, "kind": row.kind,
            "commune_code": row.commune_code, "capacity": str(row.capacity),
            "accepts_children": _YES if row.accepts_children else "no",
            "wheelchair_accessible": _YES if row.wheelchair_accessible else "no",
            "languages": row.languages,
            "lat": "" if found.lat is None else str(found.lat),
            "lon": "" if found.lon is None else str(found.lon),
        }  # fmt: skip
    fields = _shelter_fields(values, officer, new=not id)
    title = _d("edit") if id else _d("add_shelter")
    return HTMLResponse(_form_page("shelter", title, fields, state["csrf"], ()))


@router.post("/shelter")
async def shelter_save(request: Request) -> Response:
    form = await _form(request)
    try:
        state, officer = await _officer(request, _one(form, "csrf", 64))
    except _Refused as refused:
        return refused.response
    values = _values(form, _SHELTER)
    new = values["new"] == _YES
    if new:
        values["id"] = _new_id("shelter")
    elif not _ID.match(values["id"]):
        return _refused()
    store = hotline_of(request).store
    async with transaction(store.sessions) as session:
        existing = await session.get(Shelter, values["id"])
        if new != (existing is None) or (
            existing is not None and not may_edit_directory(officer, existing.province_code)
        ):
            return _refused()
        # The live occupancy is kept: placements and the manager change it, not this form.
        values["occupancy"] = str(existing.occupancy if existing is not None else 0)
        checked = check_shelter(values, officer_id=officer.id)
        record = checked.shelter
        if record is None or not may_edit_directory(officer, record.province_code.code):
            errors = checked.errors or (_t("refused"),)
            fields = _shelter_fields(values | {"id": "" if new else values["id"]}, officer, new)
            title = _d("add_shelter") if new else _d("edit")
            return HTMLResponse(
                _form_page("shelter", title, fields, state["csrf"], errors), status_code=400
            )
        await directory_edit.save_shelter(session, store.vault, record, now=utcnow())
        action = "directory.shelter_added" if new else "directory.shelter_edited"
        await _audit(session, request, action, officer)
    await request.app.state.runtime.reload_directory()
    return RedirectResponse("/focal/directory", status_code=303)


@router.post("/shelter/active")
async def shelter_active(request: Request) -> Response:
    """Deactivate a shelter, or bring one back."""
    form = await _form(request)
    try:
        _state, officer = await _officer(request, _one(form, "csrf", 64))
    except _Refused as refused:
        return refused.response
    shelter_id, active = _one(form, "id", 64), _one(form, "active", 8) == _YES
    store = hotline_of(request).store
    async with transaction(store.sessions) as session:
        row = await session.get(Shelter, shelter_id) if _ID.match(shelter_id) else None
        if row is None or not may_edit_directory(officer, row.province_code):
            return _refused()
        await directory_edit.set_shelter_active(session, row, active, now=utcnow())
        action = "directory.shelter_reactivated" if active else "directory.shelter_deactivated"
        await _audit(session, request, action, officer)
    await request.app.state.runtime.reload_directory()
    return RedirectResponse("/focal/directory", status_code=303)


@router.post("/shelter/manager")
async def shelter_manager(request: Request) -> Response:
    """A shelter's manager (created once) and a one-time invite code for it."""
    form = await _form(request)
    try:
        _state, officer = await _officer(request, _one(form, "csrf", 64))
    except _Refused as refused:
        return refused.response
    shelter_id = _one(form, "id", 64)
    store = hotline_of(request).store
    async with transaction(store.sessions) as session:
        row = await session.get(Shelter, shelter_id) if _ID.match(shelter_id) else None
    if row is None or not row.active or not may_edit_directory(officer, row.province_code):
        return _refused()
    desk = request.app.state.runtime.casework
    manager = await shelter_managers.add_manager(desk, row.id, now=utcnow())
    code = await desk.invite(manager, now=utcnow())
    async with transaction(store.sessions) as session:
        await _audit(session, request, "directory.invite_issued", officer)
    return _code_page(code)
