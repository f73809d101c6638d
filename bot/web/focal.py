"""The focal point inbox on the web: ``/focal``.

A focal point signs in with a one-time invite code (the same codes as on Telegram: the
code binds the focal point's account to this web sign-in, through
:meth:`bot.casework.CaseworkService.redeem`). They see the open referrals they may act on under
the one rule the chat uses too (:func:`routing.access.may_act`) and act
on them through the same desk as on Telegram (acknowledge, reply, ask, transfer, close
with services or an outcome); the desk checks each action and audits it.

Sessions: a random token in an HttpOnly, SameSite=Strict cookie (Secure over HTTPS),
scoped to ``/focal``; server side, a sealed row (a ``conversations`` row under a keyed
hash of the token) holds the focal point id, the CSRF token and the expiry, so sessions
survive a restart, work across workers and are shredded when they expire. Every form
post carries the CSRF token; sign-in carries a double-submit token. Pages are plain HTML
(no script); voice messages recorded in the web chat play in a plain ``<audio>`` element
from ``/focal/media/<id>``, under the same rule as the inbox, audited and never cached.
"""

from __future__ import annotations

import hashlib
import html
import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import func, or_
from sqlmodel import select

from bot import agencies, shelter_managers, shelters
from bot.casework import Actor
from bot.rate import Window
from bot.web import assets
from bot.web import case_plan as web_plan
from bot.web import shelter_manager as web_manager
from bot.web.chat import CHANNEL, hotline_of, read_ops, web_state
from bot.web.security import constant_equal, secure_cookies
from dialogs import casework_ops as O
from dialogs import focal_texts as T
from dialogs.i18n import DEFAULT, translator
from dialogs.web_texts import FOCAL
from routing.access import may_act, may_read
from routing.duty import LOCAL_TZ
from routing.places import PlaceCode
from storage import audit, conversations, media
from storage.db import transaction
from storage.directory_store import MANAGER
from storage.models import Case, CaseMessage, CaseTask, FocalPoint, Media, Referral, Shelter
from storage.records import data_key_of, open_from

SESSION_COOKIE = "lt_focal"
PRE_COOKIE = "lt_pre"
SESSION_TTL = timedelta(hours=8)
IDLE_TTL = timedelta(minutes=60)
OPEN = ("new", "notified", "acknowledged", "in_progress")
ENDED = ("closed", "transferred")
FRESH = ("new", "notified")  # a case's card is titled "new report" only in these states
CLOSED_SHOWN = 50
LANG = DEFAULT

router = APIRouter(prefix="/focal", include_in_schema=False)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _t(name: str, **values: Any) -> str:
    return translator(LANG).gettext(FOCAL[name], **values)


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


# An escaped card's map link (dialogs.focal_texts.map_link): made a plain link that opens
# OpenStreetMap in a new tab, without a referrer; the inbox itself loads no map.
_MAP_LINK = re.compile(
    r"https://www\.openstreetmap\.org/\?mlat=-?\d{1,3}\.\d{5}&amp;mlon=-?\d{1,3}\.\d{5}"
    r"#map=17/-?\d{1,3}\.\d{5}/-?\d{1,3}\.\d{5}"
)


def _card_html(text: str) -> str:
    """The card's text, escaped, with its map link clickable."""
    return _MAP_LINK.sub(
        lambda m: (
            f'<a href="{m.group(0)}" target="_blank" rel="noopener noreferrer">{m.group(0)}</a>'
        ),
        _e(text),
    )


# -- sessions -----------------------------------------------------------------------------------


def _session_key(store, token: str) -> str:
    return conversations.conversation_key(store.vault, "web-focal-session", token)


async def _load_session(request: Request, *, slide: bool = True) -> dict[str, Any] | None:
    """The signed-in session, or None; ``slide``: a page the person opened keeps it alive
    (the background check for updates does not)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token or len(token) > 64:
        return None
    hotline = hotline_of(request)
    store = hotline.store
    now = utcnow()
    key = _session_key(store, token)
    async with transaction(store.sessions) as session:
        row, state = await conversations.load(session, store.vault, key)
        if row is None or not isinstance(state, dict):
            return None
        if state.get("exp", 0) < now.timestamp() or row.expires_at < now:
            await conversations.shred(session, store.vault, key)
            return {"expired": True}
        if slide:  # sliding idle expiry, bounded by the absolute one
            row.expires_at = min(now + IDLE_TTL, datetime.fromtimestamp(state["exp"], UTC))
            session.add(row)
    return state | {"token": token}


def _limiter(request: Request) -> Window:
    """Focal actions per session (sign-in attempts are the desk's: bot/attempts.py)."""
    state = web_state(request)
    limiter = getattr(state, "focal_act", None)
    if limiter is None:
        limiter = state.focal_act = Window(state.limits.focal_actions, 60, name="web.focal")
    return limiter


# -- pages ----------------------------------------------------------------------------------------


def _page(body: str, *, title: str | None = None, version: str | None = None) -> str:
    """A page; with ``version`` (the inbox), a small script asks every little while
    whether anything changed and offers to reload (never over a half-typed reply)."""
    script = ""
    if version is not None:
        script = f'<script src="{assets.url("focal.js")}" defer></script>'
    data = f' data-version="{_e(version)}"' if version is not None else ""
    return (
        '<!doctype html><html lang="vi"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer"><meta name="robots" content="noindex">'
        f"<title>{_e(title or _t('title'))}</title>"
        f'<link rel="stylesheet" href="{assets.url("focal.css")}">{script}</head>'
        f"<body{data}>{body}</body></html>"
    )


def _signin_page(request: Request, message: str | None = None, status: int = 200) -> Response:
    pre = secrets.token_urlsafe(24)
    note = f'<p class="note" role="alert">{_e(message)}</p>' if message else ""
    body = (
        f"<main class='signin'><h1>{_e(_t('title'))}</h1>{note}"
        '<form method="post" action="/focal/signin">'
        f'<input type="hidden" name="csrf" value="{_e(pre)}">'
        f'<label for="code">{_e(_t("code"))}</label>'
        f'<p class="hint">{_e(_t("code_hint"))}</p>'
        '<input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" '
        'maxlength="32" required>'
        f'<button type="submit">{_e(_t("signin"))}</button></form></main>'
    )
    response = HTMLResponse(_page(body), status_code=status)
    response.set_cookie(
        PRE_COOKIE,
        pre,
        max_age=1800,
        path="/focal",
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request),
    )
    return response


async def _signed_in_focal(request: Request, state: dict[str, Any]) -> Any:
    """The focal point of a live session, or None (signed out elsewhere, or revoked)."""
    store = hotline_of(request).store
    async with transaction(store.sessions) as session:
        focal = await request.app.state.runtime.casework.identify(session, CHANNEL, state["uid"])
        if focal is None or focal.id != state["fp"]:
            await conversations.shred(session, store.vault, _session_key(store, state["token"]))
            return None
        return focal


Rows = list[tuple[Referral, Case]]


async def _visible(session, focal) -> tuple[Rows, Rows]:
    """The referrals this focal point may act on, newest first, and the ended ones
    (closed, transferred away) it may only read, one per case, under the one rule
    (routing.access). The database narrows to its own referrals and its province's."""
    query = (
        select(Referral, Case)
        .join(Case, Case.id == Referral.case_id)
        .where(or_(Referral.focal_point_id == focal.id, Case.province_code == focal.province_code))
        .order_by(Referral.created_at.desc())
        .limit(2000)
    )
    rows = (await session.exec(query)).all()
    live: Rows = [(r, c) for r, c in rows if r.status in OPEN and may_act(focal, r, c)]
    ended: Rows = []
    shown = {case.id for _r, case in live}
    for referral, case in rows:
        if referral.status in ENDED and case.id not in shown and may_read(focal, referral, case):
            shown.add(case.id)
            ended.append((referral, case))
    return live, ended


async def _version(session, rows: Rows) -> str:
    """What the inbox shows, in a few bytes: which referrals, their states and how many
    messages each case has (a new card, an acknowledgement or a message changes it)."""
    ids = [case.id for _r, case in rows]
    counts: dict[str, int] = {}
    if ids:
        query = (
            select(CaseMessage.case_id, func.count())
            .where(CaseMessage.case_id.in_(ids))
            .group_by(CaseMessage.case_id)
        )
        counts = dict((await session.exec(query)).all())
    digest = hashlib.sha256()
    for referral, case in rows:
        seen = f"{referral.id}:{referral.status}:{case.status}:{counts.get(case.id, 0)};"
        digest.update(seen.encode())
    return digest.hexdigest()[:16]


def _signed_out(request: Request) -> Response:
    response = _signin_page(request, _t("expired"))
    response.delete_cookie(SESSION_COOKIE, path="/focal")
    return response


@router.get("", response_class=HTMLResponse)
async def inbox(request: Request, ref: str = "") -> Response:
    """The open cases this focal point may act on, then its closed ones, read-only;
    ``ref`` finds one case by its reference."""
    state = await _load_session(request)
    if state is None:
        return _signin_page(request)
    if state.get("expired"):
        return _signed_out(request)
    focal = await _signed_in_focal(request, state)
    if focal is None:
        return _signed_out(request)
    store = hotline_of(request).store
    desk = request.app.state.runtime.casework
    wanted = ref.strip().upper()[:16]
    async with transaction(store.sessions) as session:
        live, ended = await _visible(session, focal)
        version = await _version(session, live)
        if wanted:
            live = [(r, c) for r, c in live if c.ref == wanted]
            ended = [(r, c) for r, c in ended if c.ref == wanted]
        cards = [await _card(session, desk, r, c, state["csrf"]) for r, c in live[:100]]
        occupancy = (
            await web_manager.panel(session, desk, focal, state["csrf"])
            if focal.role == MANAGER
            else ""
        )
        closed = [
            await _card(session, desk, r, c, state["csrf"], readonly=True)
            for r, c in ended[:CLOSED_SHOWN]
        ]
        await audit.append(
            session,
            store.keyring,
            action="focal.web.inbox_viewed",
            actor_role="focal_point",
            actor_id=focal.id,
            at=utcnow(),
        )
    notices = await _notices(request, store, state["uid"])
    flash = "".join(f"<li>{_e(text)}</li>" for text in notices)
    find = (
        '<form method="get" action="/focal" class="find" role="search">'
        f'<label for="ref">{_e(_t("find_ref"))}</label>'
        f'<input id="ref" name="ref" value="{_e(wanted)}" maxlength="16" autocomplete="off">'
        f'<button type="submit" class="quiet">{_e(_t("find"))}</button></form>'
    )
    closed_html = (
        f'<details class="closed"{" open" if wanted else ""}><summary>'
        f"{_e(_t('closed_cases'))} ({len(closed)})</summary>"
        f'<p class="hint">{_e(_t("readonly"))}</p>' + "".join(closed) + "</details>"
        if closed
        else ""
    )
    body = (
        '<header class="top">'
        f"<h1>{_e(_t('inbox'))}</h1>"
        + (
            f'<a href="/focal/province">{_e(_t("province"))}</a>'
            if focal.role == "province_desk"
            else ""
        )
        + '<form method="post" action="/focal/signout">'
        f'<input type="hidden" name="csrf" value="{_e(state["csrf"])}">'
        f'<button type="submit" class="quiet">{_e(_t("signout"))}</button></form></header>'
        f'<p class="updated" role="status" hidden>{_e(_t("updated"))} '
        f'<a href="/focal">{_e(_t("reload"))}</a></p>'
        + (f'<ul class="notices" role="status">{flash}</ul>' if flash else "")
        + occupancy
        + find
        + ("".join(cards) if cards else f'<p class="empty">{_e(_t("empty"))}</p>')
        + closed_html
    )
    return HTMLResponse(_page(body, version=version))


@router.get("/updates")
async def updates(request: Request) -> Response:
    """The inbox's version (:func:`_version`), for the page's check for news; it keeps no
    idle session alive. 401 once the session is gone."""
    headers = {"Cache-Control": "no-store"}
    state = await _load_session(request, slide=False)
    focal = None
    if state is not None and not state.get("expired"):
        focal = await _signed_in_focal(request, state)
    if focal is None:
        return JSONResponse({"v": None}, status_code=401, headers=headers)
    store = hotline_of(request).store
    async with transaction(store.sessions) as session:
        live, _ended = await _visible(session, focal)
        version = await _version(session, live)
    return JSONResponse({"v": version}, headers=headers)


_MEDIA_ID = re.compile(r"^[0-9a-f]{32}$")
_PRIVATE = {"Cache-Control": "no-store", "Content-Disposition": "inline"}


@router.get("/media/{media_id}")
async def recording(request: Request, media_id: str) -> Response:
    """A web recording, for a focal point whose inbox shows its referral (the same rule as
    the inbox: assigned to them, still open, shared with consent). Played or refused, it
    is audited; it is never cached."""
    state = await _load_session(request)
    if state is None or state.get("expired"):
        return Response(status_code=403, headers=_PRIVATE)
    if not _MEDIA_ID.match(media_id):
        return Response(status_code=404, headers=_PRIVATE)
    _limiter(request)
    if not web_state(request).focal_act.allow(state["token"]):
        return Response(status_code=429, headers=_PRIVATE | {"Retry-After": "30"})
    store = hotline_of(request).store
    desk = request.app.state.runtime.casework
    now = utcnow()
    async with transaction(store.sessions) as session:
        focal = await desk.identify(session, CHANNEL, state["uid"])
        if focal is None or focal.id != state["fp"]:
            return Response(status_code=403, headers=_PRIVATE)
        row = await session.get(Media, media_id)
        case_id = row.case_id if row is not None else None
        referral = None
        if case_id is not None:
            case = await session.get(Case, case_id)
            query = select(Referral).where(Referral.case_id == case_id, Referral.status.in_(OPEN))
            referral = next(
                (
                    r
                    for r in (await session.exec(query)).all()
                    if case is not None and may_act(focal, r, case)
                ),
                None,
            )
        opened = None
        if referral is not None:
            opened = await media.fetch(session, store.vault, media_id, case_id=case_id)
        await audit.append(
            session,
            store.keyring,
            action="focal.web.media_played" if opened else "focal.web.media_refused",
            actor_role="focal_point",
            actor_id=focal.id,
            case_id=case_id,
            at=now,
        )
    if opened is None:
        return Response(status_code=404, headers=_PRIVATE)
    return Response(opened.content, media_type=opened.mime, headers=_PRIVATE)


def _identity(store, uid: str) -> str:
    return conversations.conversation_key(store.vault, CHANNEL, uid)


async def _notices(request: Request, store, uid: str) -> list[str]:
    """The desk's latest confirmations to this web account (as on Telegram)."""
    key = _identity(store, uid)
    state = web_state(request)
    ops, _ = await read_ops(store, key, 0, utcnow(), state)
    texts = [op["text"] for op in ops if op["op"] == "send" and not op.get("options")]
    return texts[-3:]


def _when(moment: datetime) -> str:
    """A message's time as the focal point reads it (Viet Nam's clock)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    local = aware.astimezone(LOCAL_TZ)
    return f'<time datetime="{_e(aware.isoformat(timespec="minutes"))}">{local:%H:%M %d/%m}</time>'


async def _card(
    session, desk, referral: Referral, case: Case, csrf: str, *, readonly: bool = False
) -> str:
    """A case's card, its recordings and messages (each with its time); with the actions
    unless ``readonly`` (a closed case, kept findable until retention deletes it)."""
    vault = desk.store.vault
    key = await data_key_of(session, vault, case)
    fresh = not readonly and referral.acknowledged_at is None and case.status in FRESH
    card = await desk.card_for(session, referral, case, fresh=fresh)
    rows = (
        await session.exec(
            select(CaseMessage)
            .where(CaseMessage.case_id == case.id)
            .order_by(CaseMessage.created_at)
            .limit(50)
        )
    ).all()
    # Web recordings linked to the case (only those: a reference alone plays nothing).
    linked = set(await media.linked_ids(session, case.id)) if case.consent_referral else set()
    reported = [
        m
        for m in media.media_ids_in(open_from(vault, key, case, "attachments") if linked else ())
        if m in linked
    ]
    thread = []
    for message in rows:
        body = open_from(vault, key, message, "body") or {}
        who = {"focal_point": "↗", "note": "✎ " + _e(_t("note"))}.get(message.sender, "↘")
        when = _when(message.created_at)
        for text in body.get("texts", []):
            thread.append(f'<li class="{_e(message.sender)}">{when} {who} {_e(text)}</li>')
        for media_id in media.media_ids_in(body.get("media")):
            if media_id in linked:
                thread.append(
                    f'<li class="{_e(message.sender)}">{when} {who} {_player(media_id)}</li>'
                )
    recordings = (
        f'<h3>{_e(_t("recordings"))}</h3><ul class="recordings">'
        + "".join(f"<li>{_player(m)}</li>" for m in reported)
        + "</ul>"
        if reported
        else ""
    )
    rid = _e(referral.id)
    communes = _transfer_choices(desk, case)
    hidden = f'<input type="hidden" name="csrf" value="{_e(csrf)}">' + (
        f'<input type="hidden" name="referral" value="{rid}">'
    )
    tasks = await _tasks_html(session, vault, key, case, hidden, readonly)
    agency_html = await _agencies_html(session, desk, referral, case, hidden, readonly)
    stay_html = await _stay_html(session, desk, case, hidden, readonly)
    plan_html = await web_plan.card_html(session, desk, case, hidden, readonly)
    services = "".join(
        f'<label class="check"><input type="checkbox" name="services" value="{_e(s)}"> '
        f"{_e(label)}</label>"
        for s, label in _service_labels()
    )
    outcomes = f'<option value="">{_e(_t("pick_reason"))}</option>' + "".join(
        f'<option value="{_e(value)}">{_e(label)}</option>' for value, label in _outcome_labels()
    )
    ack = (
        ""
        if referral.acknowledged_at
        else (
            '<form method="post" action="/focal/act" class="inline">'
            f'{hidden}<input type="hidden" name="action" value="ack">'
            f'<button type="submit" class="primary">{_e(_t("acknowledge"))}</button></form>'
        )
    )
    head = (
        f'<article class="card urgency-{_e(case.urgency)}{" readonly" if readonly else ""}" '
        f'data-ref="{_e(case.ref)}">'
        f'<pre class="cardtext">{_card_html(card.text)}</pre>'
        f'<p class="status">{_e(_t("status"))}: {_e(_status(case.status))}</p>'
        + recordings
        + (
            f'<h3>{_e(_t("messages"))}</h3><ul class="thread">{"".join(thread)}</ul>'
            if thread
            else ""
        )
        + plan_html
        + agency_html
        + stay_html
        + tasks
    )
    if readonly:
        reopen = (
            '<form method="post" action="/focal/act" class="inline">'
            f'{hidden}<input type="hidden" name="action" value="reopen">'
            f'<button type="submit">{_e(_t("reopen"))}</button></form>'
            if case.status == "closed"
            else ""
        )
        return head + reopen + "</article>"
    return (
        head + ack + '<form method="post" action="/focal/act" class="block">'
        f"{hidden}<label>{_e(_t('text'))}"
        '<textarea name="text" rows="3" maxlength="3000" required></textarea></label>'
        f'<button type="submit" name="action" value="reply">{_e(_t("reply"))}</button> '
        f'<button type="submit" name="action" value="ask">{_e(_t("ask"))}</button></form>'
        "<details><summary>" + _e(_t("note_add")) + "</summary>"
        '<form method="post" action="/focal/act" class="block">'
        f'{hidden}<input type="hidden" name="action" value="note">'
        f'<p class="hint">{_e(_t("note_hint"))}</p>'
        f"<label>{_e(_t('note'))}"
        '<textarea name="text" rows="2" maxlength="3000" required></textarea></label>'
        f'<button type="submit">{_e(_t("note_add"))}</button></form></details>'
        "<details><summary>" + _e(_t("transfer")) + "</summary>"
        '<form method="post" action="/focal/act" class="block">'
        f'{hidden}<input type="hidden" name="action" value="transfer">'
        f'<label>{_e(_t("transfer_to"))} <select name="commune">{communes}</select></label>'
        f"<label>{_e(_t('transfer_other'))}"
        '<input name="text" maxlength="120"></label>'
        f'<button type="submit">{_e(_t("transfer"))}</button></form></details>'
        "<details><summary>" + _e(_t("close")) + "</summary>"
        '<form method="post" action="/focal/act" class="block">'
        f'{hidden}<input type="hidden" name="action" value="close">'
        f"<fieldset><legend>{_e(_t('services'))}</legend>{services}</fieldset>"
        f'<label>{_e(_t("outcome"))} <select name="outcome" required>{outcomes}</select></label>'
        '<label class="check"><input type="checkbox" name="confirm" value="yes" required> '
        f"{_e(_t('confirm_close'))}</label>"
        f'<button type="submit">{_e(_t("close"))}</button></form></details>'
        "</article>"
    )


async def _agencies_html(
    session, desk, referral: Referral, case: Case, hidden: str, readonly: bool
) -> str:
    """Each agency referral of the case and its state; unless ``readonly``, a way to refer
    the case to an agency the survivor agreed to (bot.agencies)."""
    listed = [
        f"<li>{_e(s.agency)}: {_e(_agency_status(s))}</li>"
        for s in await agencies.states(session, desk, case)
    ]
    items = f'<ul class="agencies">{"".join(listed)}</ul>' if listed else ""
    focal = await session.get(FocalPoint, referral.focal_point_id)
    choices = (
        [] if readonly or focal is None else await agencies.eligible(session, focal, referral, case)
    )
    if not choices:
        return f"<h3>{_e(_t('agencies'))}</h3>{items}" if items else ""
    names = [(a.id, await agencies.name_of(session, desk, a)) for a in choices]
    options = "".join(f'<option value="{_e(i)}">{_e(n)}</option>' for i, n in names)
    return (
        f"<h3>{_e(_t('agencies'))}</h3>{items}"
        "<details><summary>" + _e(_t("agency_refer")) + "</summary>"
        '<form method="post" action="/focal/act" class="block">'
        f'{hidden}<input type="hidden" name="action" value="agency">'
        f'<label>{_e(_t("agency"))} <select name="agency" required>{options}</select></label>'
        f'<p class="hint">{_e(_t("agency_hint"))}</p>'
        f'<button type="submit">{_e(_t("agency_refer"))}</button></form></details>'
    )


async def _stay_html(session, desk, case: Case, hidden: str, readonly: bool) -> str:
    """Where the survivor stays (a placement), with a way to end it; or, unless
    ``readonly``, the shelters of the province with a free place (bot.shelters)."""
    stay = await shelters.open_stay(session, case.id)
    if stay is not None:
        shelter = await session.get(Shelter, stay.shelter_id)
        name = await shelters.name_of(session, desk, shelter) if shelter else stay.shelter_id
        end = (
            ""
            if readonly
            else '<form method="post" action="/focal/act" class="inline">'
            f'{hidden}<input type="hidden" name="action" value="leave">'
            f'<button type="submit" class="quiet">{_e(_t("stay_end"))}</button></form>'
        )
        return (
            f'<h3>{_e(_t("stay"))}</h3><p class="stay">{_e(name)} · '
            f"{_when(stay.placed_at)}</p>{end}"
        )
    places = [] if readonly else await shelters.choices(session, case)
    if not places:
        return ""
    options = ""
    for shelter in places:
        name = await shelters.name_of(session, desk, shelter)
        free = _t("free", n=shelter.capacity - shelter.occupancy)
        options += f'<option value="{_e(shelter.id)}">{_e(name)} · {_e(free)}</option>'

    return (
        "<details><summary>" + _e(_t("place")) + "</summary>"
        '<form method="post" action="/focal/act" class="block">'
        f'{hidden}<input type="hidden" name="action" value="place">'
        f'<label>{_e(_t("stay"))} <select name="shelter" required>{options}</select></label>'
        f'<button type="submit">{_e(_t("place"))}</button></form></details>'
    )


def _agency_status(state) -> str:
    if state.status == "declined":
        return _t("agency_declined", reason=T.decline_reason_label(LANG, state.reason or ""))
    if state.status == "served":
        return _t("agency_served", service=T.service_label(LANG, state.service or ""))
    return _t(f"agency_{state.status}")


async def _tasks_html(session, vault, key, case: Case, hidden: str, readonly: bool) -> str:
    """A case's follow-ups (open ones first, each with its due time) and, unless
    ``readonly``, a way to add one and to mark one done."""
    query = (
        select(CaseTask)
        .where(CaseTask.case_id == case.id)
        .order_by(CaseTask.done_at.is_not(None), CaseTask.due_at)
        .limit(50)
    )
    items = []
    for task in (await session.exec(query)).all():
        body = open_from(vault, key, task, "body") or ""
        done = (
            f' <span class="done">✓ {_e(_t("task_done"))}</span>'
            if task.done_at
            else (
                ""
                if readonly
                else '<form method="post" action="/focal/act" class="inline">'
                f'{hidden}<input type="hidden" name="action" value="task_done">'
                f'<input type="hidden" name="task" value="{_e(task.id)}">'
                f'<button type="submit" class="quiet">{_e(_t("task_finish"))}</button></form>'
            )
        )
        items.append(f"<li>{_when(task.due_at)} {_e(body)}{done}</li>")
    listed = f'<ul class="tasks">{"".join(items)}</ul>' if items else ""
    if readonly:
        return f"<h3>{_e(_t('tasks'))}</h3>{listed}" if items else ""
    return (
        f"<h3>{_e(_t('tasks'))}</h3>{listed}"
        "<details><summary>" + _e(_t("task_add")) + "</summary>"
        '<form method="post" action="/focal/act" class="block">'
        f'{hidden}<input type="hidden" name="action" value="task">'
        f"<label>{_e(_t('task'))}"
        '<input name="text" maxlength="300" required></label>'
        f"<label>{_e(_t('task_due'))}"
        '<input type="datetime-local" name="due" required></label>'
        f'<p class="hint">{_e(_t("task_hint"))}</p>'
        f'<button type="submit">{_e(_t("task_add"))}</button></form></details>'
    )


def _due(value: str, now: datetime) -> datetime | None:
    """A due time typed in the form (Viet Nam's clock), in UTC; None when unreadable or
    further than a year either way."""
    try:
        typed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if typed.tzinfo is None:
        typed = typed.replace(tzinfo=LOCAL_TZ)
    due = typed.astimezone(UTC)
    return due if abs(due - now) <= timedelta(days=366) else None


def _player(media_id: str) -> str:
    """A plain ``<audio>`` player (no script); the recording loads only when played."""
    return (
        f'<audio controls preload="none" src="/focal/media/{_e(media_id)}" '
        f'data-media="{_e(media_id)}">{_e(_t("no_audio"))}</audio>'
    )


def _status(status: str) -> str:
    label = translator(LANG).gettext(f"status.{status}")
    return status if label == f"status.{status}" else label


def _service_labels() -> list[tuple[str, str]]:
    tr = translator(LANG)
    return [(s, tr.gettext(T._SERVICE[s])) for s in T.SERVICES]


def _outcome_labels() -> list[tuple[str, str]]:
    tr = translator(LANG)
    return [("served", tr.gettext("focal.btn.close_done"))] + [
        (o, tr.gettext(f"focal.outcome.{o}")) for o in T.OUTCOMES
    ]


# -- actions ----------------------------------------------------------------------------------------

MAX_FORM_BYTES = 16_384
ACTIONS = (
    "ack", "reply", "ask", "transfer", "close", "note", "reopen", "task", "task_done", "agency",
    "place", "leave", "risk", "plan",
)  # fmt: skip
_REFERRAL = re.compile(r"^[0-9a-f]{1,32}$")


async def _form(request: Request) -> dict[str, list[str]]:
    """A small url-encoded form (bounded; no multipart: nothing here uploads files)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        return {}
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return {}
    try:
        return parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=40)
    except (UnicodeDecodeError, ValueError):
        return {}


def _one(form: dict[str, list[str]], name: str, max_length: int) -> str:
    values = form.get(name) or [""]
    return values[0][:max_length]


@router.post("/signin")
async def signin(request: Request) -> Response:
    form = await _form(request)
    code, csrf = _one(form, "code", 32), _one(form, "csrf", 64)
    state = web_state(request)
    pre = request.cookies.get(PRE_COOKIE, "")
    if not pre or not constant_equal(pre, csrf):
        return _signin_page(request, status=403)
    hotline = hotline_of(request)
    desk = request.app.state.runtime.casework
    store = hotline.store
    now = utcnow()
    uid = secrets.token_hex(16)
    # Limited and audited like `/focal CODE` in a chat, the sender being the keyed address.
    tried = await desk.try_invite(
        CHANNEL, uid, uid, code.strip(), now=now, sender="web:" + state.address(request)
    )
    if tried.wait_s:
        return _signin_page(request, _t("too_many"), status=429)
    focal_point_id = tried.focal_point_id
    if focal_point_id is None:
        return _signin_page(request, _t("bad_code"), status=403)
    token = secrets.token_urlsafe(32)
    session_state = {
        "fp": focal_point_id,
        "uid": uid,
        "csrf": secrets.token_urlsafe(24),
        "exp": (now + SESSION_TTL).timestamp(),
    }
    async with transaction(store.sessions) as session:
        await conversations.save(
            session, store.vault, _session_key(store, token), session_state, now=now, ttl=IDLE_TTL
        )
        await audit.append(
            session,
            store.keyring,
            action="focal.web.signed_in",
            actor_role="focal_point",
            actor_id=focal_point_id,
            at=now,
        )
    response = RedirectResponse("/focal", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(SESSION_TTL.total_seconds()),
        path="/focal",
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request),
    )
    response.delete_cookie(PRE_COOKIE, path="/focal")
    return response


@router.post("/signout")
async def signout(request: Request) -> Response:
    csrf = _one(await _form(request), "csrf", 64)
    state = await _load_session(request)
    response = RedirectResponse("/focal", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/focal")
    if state is None or state.get("expired") or not constant_equal(state["csrf"], csrf):
        return response
    store = hotline_of(request).store
    async with transaction(store.sessions) as session:
        await conversations.shred(session, store.vault, _session_key(store, state["token"]))
        await request.app.state.runtime.casework.sign_out(session, state["uid"])
        await audit.append(
            session,
            store.keyring,
            action="focal.web.signed_out",
            actor_role="focal_point",
            actor_id=state["fp"],
            at=utcnow(),
        )
    return response


async def _posting(request: Request, csrf: str) -> dict[str, Any] | Response:
    """The session a form posts in (signed in, its csrf, within the rate), or the answer."""
    state = await _load_session(request)
    if state is None or state.get("expired"):
        return RedirectResponse("/focal", status_code=303)
    if not constant_equal(state["csrf"], csrf):
        return HTMLResponse(_page(f"<p>{_e(_t('refused'))}</p>"), status_code=403)
    _limiter(request)
    if not web_state(request).focal_act.allow(state["token"]):
        return HTMLResponse(_page(f"<p>{_e(_t('too_many'))}</p>"), status_code=429)
    return state


@router.post("/occupancy")
async def occupancy(request: Request) -> Response:
    """A shelter manager sets its shelter's occupancy (bot.shelter_managers decides)."""
    form = await _form(request)
    csrf, value = _one(form, "csrf", 64), _one(form, "occupancy", 8)
    state = await _posting(request, csrf)
    if isinstance(state, Response):
        return state
    desk = request.app.state.runtime.casework
    if not await shelter_managers.web_set(desk, CHANNEL, state["uid"], value, now=utcnow()):
        body = f'<p class="note">{_e(_t("refused"))}</p><a href="/focal">{_e(_t("back"))}</a>'
        return HTMLResponse(_page(body), status_code=403)
    return RedirectResponse("/focal", status_code=303)


@router.post("/act")
async def act(request: Request) -> Response:
    form = await _form(request)
    csrf, referral = _one(form, "csrf", 64), _one(form, "referral", 32)
    action, text = _one(form, "action", 16), _one(form, "text", 3000)
    services, outcome = form.get("services", [])[:10], _one(form, "outcome", 16)
    confirmed = _one(form, "confirm", 8) == "yes"
    if not _REFERRAL.match(referral) or action not in ACTIONS:
        return HTMLResponse(_page(f"<p>{_e(_t('refused'))}</p>"), status_code=400)
    state = await _posting(request, csrf)
    if isinstance(state, Response):
        return state
    desk = request.app.state.runtime.casework
    uid, now = state["uid"], utcnow()
    text = text.strip()
    commune = _one(form, "commune", 16)
    if (
        action in ("reply", "ask", "note")
        and not text
        or action == "transfer"
        and not (text or commune)
    ):
        return RedirectResponse("/focal", status_code=303)
    if action == "close" and (not confirmed or outcome not in ("served", *T.OUTCOMES)):
        # closing is confirmed, with a reason from the list (the form asks for both)
        note = f'<p class="note">{_e(_t("need_reason"))}</p>'
        back = f'<a href="/focal">{_e(_t("back"))}</a>'
        return HTMLResponse(_page(note + back), status_code=400)
    due = _due(_one(form, "due", 32), now) if action == "task" else None
    if action == "task" and (not text or due is None):
        note = f'<p class="note">{_e(_t("task_bad"))}</p>'
        return HTMLResponse(_page(note + f'<a href="/focal">{_e(_t("back"))}</a>'), 400)
    task = _one(form, "task", 32)
    if action == "task_done" and not _REFERRAL.match(task):
        ok = False
    elif action == "place":
        op: O.Operation = O.PlaceAtShelter(referral, _one(form, "shelter", 64))
        ok = bool(await desk.perform(Actor(CHANNEL, uid), op, now=now))
    elif action == "risk":
        op = O.CheckRisk(referral, tuple(web_plan.answers_of(form).items()))
        ok = bool(await desk.perform(Actor(CHANNEL, uid), op, now=now))
    elif action == "plan":
        op = O.SavePlan(referral, tuple(web_plan.plan_of(form).items()))
        ok = bool(await desk.perform(Actor(CHANNEL, uid), op, now=now))
    elif action == "leave":
        ok = bool(await desk.perform(Actor(CHANNEL, uid), O.EndStay(referral), now=now))
    elif action == "transfer":
        op = O.Transfer(referral, text, commune or None)
        ok = bool(await desk.perform(Actor(CHANNEL, uid), op, now=now))
    else:
        op = _operation(
            action, referral, text, services, outcome, _one(form, "agency", 64), task, due
        )
        ok = bool(await desk.perform(Actor(CHANNEL, uid), op, now=now))
    if not ok:
        body = f'<p class="note">{_e(_t("refused"))}</p><a href="/focal">{_e(_t("back"))}</a>'
        return HTMLResponse(_page(body), status_code=403)
    return RedirectResponse("/focal", status_code=303)


def _transfer_choices(desk, case: Case) -> str:
    """The options of the transfer list: the communes of the case's province that have a
    focal point of their own (another place can still be typed beside it)."""
    known = case.place_scheme and case.province_code
    province = PlaceCode(case.place_scheme, case.province_code) if known else None
    communes = desk.directory().communes_served(province) if province else ()
    return f'<option value="">{_e(_t("transfer_pick"))}</option>' + "".join(
        f'<option value="{_e(str(c.code))}">{_e(c.name)}</option>' for c in communes
    )


def _operation(
    action: str,
    referral: str,
    text: str,
    services: list[str],
    outcome: str,
    agency: str,
    task: str,
    due: datetime | None,
) -> O.Operation:
    """The typed operation a checked inbox form asks for (bot.casework authorizes it)."""
    if action == "close":
        chosen = tuple(dict.fromkeys(s for s in services if s in T.SERVICES))
        if outcome not in T.OUTCOMES:  # "served" names no service: closed as none given
            outcome = "served" if chosen else "no_service"
        return O.Close(referral, chosen, outcome)
    simple: dict[str, O.Operation] = {
        "ack": O.Acknowledge(referral),
        "reply": O.Reply(referral, text),
        "ask": O.Ask(referral, text),
        "reopen": O.Reopen(referral),
        "note": O.Note(referral, text),
        "agency": O.ReferToAgency(referral, agency),
        "task_done": O.FinishTask(task),
    }
    if action == "task" and due is not None:
        return O.AddTask(referral, text, due)
    return simple[action]
