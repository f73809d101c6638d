"""The province's view of its cases: ``/focal/province``, for a signed-in province desk.

Every open case of the province, newest first, as metadata only (reference, commune,
category, urgency, age, rung, who holds it, whether it is overdue): the story is on the
case's card in the inbox, where the survivor agreed to the province desk seeing it. From
here the desk takes a case over or gives it to another focal point of the province
(the casework service's ``HandCase``, under :func:`routing.access.may_hand`).
"""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import select

from bot.casework import Actor
from bot.web.chat import CHANNEL, hotline_of
from bot.web.directory import directory_link
from bot.web.focal import (
    LANG,
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
from bot.web.province_shelters import shelters_html
from bot.web.security import constant_equal
from dialogs import casework_ops as O
from dialogs import focal_texts as T
from routing.access import PROVINCE_DESK, may_hand
from routing.places import PlaceCode, load_places
from storage import audit
from storage.db import transaction
from storage.models import Case, FocalPoint, Referral
from storage.records import data_key_of, open_from

SHOWN = 300
_OPEN_CASE = ("closed", "withdrawn")
_ENDED = ("closed", "transferred")
_ID = re.compile(r"^[0-9A-Za-z_.-]{1,64}$")

router = APIRouter(prefix="/focal/province", include_in_schema=False)


def _age(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    return _t("age_days", n=hours // 24) if hours >= 48 else _t("age_hours", n=max(hours, 0))


def _commune(case: Case) -> str:
    if not case.commune_code:
        return "—"
    found = load_places().commune(PlaceCode(case.place_scheme, case.commune_code))
    return str(found.name) if found else case.commune_code


async def _names(session, vault, rows: list[FocalPoint]) -> dict[str, str]:
    names = {}
    for row in rows:
        key = await data_key_of(session, vault, row)
        names[row.id] = open_from(vault, key, row, "display_name") or row.id
    return names


@router.get("", response_class=HTMLResponse)
async def province(request: Request) -> Response:
    state = await _load_session(request)
    if state is None or state.get("expired"):
        return RedirectResponse("/focal", status_code=303)
    desk_row = await _signed_in_focal(request, state)
    if desk_row is None:
        return _signed_out(request)
    if desk_row.role != PROVINCE_DESK:
        return HTMLResponse(_page(f'<p class="note">{_e(_t("refused"))}</p>'), status_code=403)
    runtime = request.app.state.runtime
    store = hotline_of(request).store
    now = utcnow()
    sla = runtime.ladder.sla_minutes
    async with transaction(store.sessions) as session:
        cases = (
            await session.exec(
                select(Case)
                .where(Case.province_code == desk_row.province_code, Case.status.not_in(_OPEN_CASE))
                .order_by(Case.created_at.desc())
                .limit(SHOWN)
            )
        ).all()
        ids = [c.id for c in cases]
        live = (
            await session.exec(
                select(Referral).where(Referral.case_id.in_(ids), Referral.status.not_in(_ENDED))
            )
        ).all() if ids else []  # fmt: skip
        held = {r.case_id: r for r in live}
        people = (
            await session.exec(
                select(FocalPoint).where(
                    FocalPoint.province_code == desk_row.province_code, FocalPoint.active
                )
            )
        ).all()
        names = await _names(session, store.vault, list(people))
        shelters = await shelters_html(session, store.vault, desk_row.province_code, now)
        await audit.append(
            session,
            store.keyring,
            action="focal.web.province_viewed",
            actor_role="focal_point",
            actor_id=desk_row.id,
            at=now,
        )
    csrf = state["csrf"]
    rows = []
    for case in cases:
        referral = held.get(case.id)
        created = (
            case.created_at
            if case.created_at.tzinfo
            else case.created_at.replace(tzinfo=now.tzinfo)
        )
        late = (
            referral is not None
            and referral.acknowledged_at is None
            and now - created > timedelta(minutes=sla.get(case.urgency, sla["normal"]))
        ) or (referral is None and case.consent_referral)
        holder = (
            f"{_e(names.get(referral.focal_point_id, referral.focal_point_id))}"
            if referral
            else _e(_t("nobody"))
        )
        rung = _e(_t("rung", n=referral.level + 1)) if referral else "—"
        targets = [p for p in people if may_hand(desk_row, case, p)]
        actions = ""
        if targets:
            options = "".join(
                f'<option value="{_e(p.id)}">{_e(names.get(p.id, p.id))} · '
                f"{_e(T.role_label(LANG, p.role))}</option>"
                for p in targets
                if p.id != desk_row.id
            )
            hidden = (
                f'<input type="hidden" name="csrf" value="{_e(csrf)}">'
                f'<input type="hidden" name="case" value="{_e(case.id)}">'
            )
            actions = (
                '<form method="post" action="/focal/province/hand" class="inline">'
                f'{hidden}<input type="hidden" name="to" value="{_e(desk_row.id)}">'
                f'<button type="submit" class="primary">{_e(_t("take_over"))}</button></form>'
                + (
                    '<form method="post" action="/focal/province/hand" class="inline">'
                    f'{hidden}<label>{_e(_t("give_to"))} <select name="to" required>'
                    f"{options}</select></label>"
                    f'<button type="submit">{_e(_t("give"))}</button></form>'
                    if options
                    else ""
                )
            )
        mark = ' class="late"' if late else ""
        rows.append(
            f'<tr data-ref="{_e(case.ref)}"{mark}>'
            f'<td><a href="/focal?ref={_e(case.ref)}">{_e(case.ref)}</a></td>'
            f"<td>{_e(_commune(case))}</td>"
            f"<td>{_e(T.category_label(LANG, case.category))}</td>"
            f"<td>{_e(T.urgency_label(LANG, case.urgency))}</td>"
            f"<td>{_e(_age(now - created))}</td>"
            f"<td>{rung}</td><td>{holder}</td>"
            f"<td>{_e(_t('overdue')) if late else ''}</td>"
            f"<td>{actions}</td></tr>"
        )
    head = "".join(
        f'<th scope="col">{_e(_t(k))}</th>'
        for k in (
            "case",
            "commune",
            "category",
            "urgency",
            "age",
            "rung_h",
            "holder",
            "late_h",
            "act_h",
        )
    )
    table = (
        f'<table class="province"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
        if rows
        else f'<p class="empty">{_e(_t("empty"))}</p>'
    )
    body = (
        f'<header class="top"><h1>{_e(_t("province"))}</h1>'
        f'<a href="/focal/directory">{_e(directory_link())}</a>'
        f'<a href="/focal">{_e(_t("inbox"))}</a></header>'
        f'<p class="hint">{_e(_t("province_hint"))}</p>' + table + shelters
    )
    return HTMLResponse(_page(body, title=_t("province")))


@router.post("/hand")
async def hand(request: Request) -> Response:
    form = await _form(request)
    csrf, case_id, target = _one(form, "csrf", 64), _one(form, "case", 32), _one(form, "to", 64)
    state = await _load_session(request)
    if state is None or state.get("expired"):
        return RedirectResponse("/focal", status_code=303)
    if not constant_equal(state["csrf"], csrf) or not _ID.match(case_id) or not _ID.match(target):
        return HTMLResponse(_page(f"<p>{_e(_t('refused'))}</p>"), status_code=403)
    casework = request.app.state.runtime.casework
    op = O.HandCase(case_id, target)
    done = await casework.perform(Actor(CHANNEL, state["uid"]), op, now=utcnow())
    if not done:
        body = (
            f'<p class="note">{_e(_t("refused"))}</p><a href="/focal/province">{_e(_t("back"))}</a>'
        )
        return HTMLResponse(_page(body), status_code=403)
    return RedirectResponse("/focal/province", status_code=303)
