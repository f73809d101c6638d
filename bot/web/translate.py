"""The translators' workshop on the web: ``/translate`` (issue 21).

A community translator signs in with the token issued to them for one language
(``hotline i18n token LANG --name …``; only a keyed hash is stored). Sessions are the focal
inbox's kind: a random token in an HttpOnly, SameSite=Strict cookie scoped to
``/translate``; server side a sealed ``conversations`` row (under a keyed hash of the token)
holds the translator id, the language, the CSRF token and the expiry; a revoked translator's
session ends at its next request. Every sign-in, save, review, recording and refused
attempt is audited (actor ``translator``, by the translator's random id).

Each text shows its Vietnamese source and English, where it appears (flow steps and source
files), its placeholders and plural forms; a save is checked
(:func:`dialogs.workshop.check`) and a refused one keeps what was typed. A draft is reviewed
by a second translator (:func:`dialogs.workshop.may_review`). The text's recording is made
in the page (``translate.js``, MediaRecorder), kept in the database until the text is
reviewed and exported (:mod:`bot.i18n_po`). Plain HTML; the only script is the recorder.
"""

from __future__ import annotations

import html
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.i18n_po import workshop_text, workshop_texts
from bot.rate import Window
from bot.web import assets
from bot.web import audio as web_audio
from bot.web.chat import hotline_of, web_state
from bot.web.focal import _form, _one
from bot.web.security import constant_equal, secure_cookies
from dialogs import speech
from dialogs import workshop as W
from dialogs.i18n import DEFAULT, LANG_NAMES, translator
from dialogs.workshop_texts import WORKSHOP
from storage import audit, conversations
from storage import translations as store_t
from storage.db import transaction

SESSION_COOKIE = "lt_translate"
PRE_COOKIE = "lt_translate_pre"
PATH = "/translate"
SESSION_TTL = timedelta(hours=8)
IDLE_TTL = timedelta(minutes=90)
SIGNIN_LIMIT = 10  # sign-in attempts per address per 10 minutes
ACT_LIMIT = 60  # saves, reviews and recordings per translator per minute
ROLE = "translator"

router = APIRouter(prefix=PATH, include_in_schema=False)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _t(key: str, /, **values: Any) -> str:
    return translator(DEFAULT).gettext(WORKSHOP[key], **values)


def _v(msgid: str, **values: Any) -> str:
    return translator(DEFAULT).gettext(msgid, **values)


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _page(body: str, *, title: str | None = None, script: bool = False) -> str:
    js = f'<script src="{assets.url("translate.js")}" defer></script>' if script else ""
    return (
        '<!doctype html><html lang="vi"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer"><meta name="robots" content="noindex">'
        f"<title>{_e(title or _t('title'))}</title>"
        f'<link rel="stylesheet" href="{assets.url("translate.css")}">{js}</head>'
        f"<body>{body}</body></html>"
    )


async def _audit(store, action: str, actor: str | None, now: datetime) -> None:
    async with transaction(store.sessions) as session:
        await audit.append(
            session, store.keyring, action=action, actor_role=ROLE, actor_id=actor, at=now
        )


# -- sessions -----------------------------------------------------------------------------------


def _session_key(store, token: str) -> str:
    return conversations.conversation_key(store.vault, "web-translate-session", token)


async def _session(request: Request) -> dict[str, Any] | None:
    """The live session (its translator not revoked), or None."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token or len(token) > 64:
        return None
    store = hotline_of(request).store
    now = utcnow()
    key = _session_key(store, token)
    async with transaction(store.sessions) as session:
        row, state = await conversations.load(session, store.vault, key)
        if row is None or not isinstance(state, dict):
            return None
        alive = await store_t.live(session, state.get("tr", ""))
        if alive is None or state.get("exp", 0) < now.timestamp() or row.expires_at < now:
            await conversations.shred(session, store.vault, key)
            return None
        row.expires_at = min(now + IDLE_TTL, datetime.fromtimestamp(state["exp"], UTC))
        session.add(row)
        name = await store_t.name_of(session, store.vault, alive)
    return state | {"token": token, "name": name}


def _limiter(request: Request) -> Window:
    state = web_state(request)
    limiter = getattr(state, "translate_signin", None)
    if limiter is None:
        limiter = state.translate_signin = Window(SIGNIN_LIMIT, 600, name="web.translate")
    return limiter


def _acts(request: Request, state: dict[str, Any]) -> bool:
    """Saves, reviews and recordings per translator (a stuck key or a script, not a person)."""
    web = web_state(request)
    limiter = getattr(web, "translate_acts", None)
    if limiter is None:
        limiter = web.translate_acts = Window(ACT_LIMIT, 60, name="web.translate.acts")
    return limiter.allow(state["tr"])


def _signin_page(request: Request, message: str | None = None, status: int = 200) -> Response:
    pre = secrets.token_urlsafe(24)
    note = f'<p class="note" role="alert">{_e(message)}</p>' if message else ""
    body = (
        f"<main class='signin'><h1>{_e(_t('title'))}</h1>{note}"
        f'<form method="post" action="{PATH}/signin">'
        f'<input type="hidden" name="csrf" value="{_e(pre)}">'
        f'<label for="token">{_e(_t("token"))}</label>'
        f'<p class="hint" id="token-hint">{_e(_t("token_hint"))}</p>'
        '<input id="token" name="token" type="password" autocomplete="off" '
        'aria-describedby="token-hint" maxlength="64" required>'
        f'<button type="submit">{_e(_t("signin"))}</button></form></main>'
    )
    response = HTMLResponse(_page(body), status_code=status)
    response.set_cookie(
        PRE_COOKIE,
        pre,
        max_age=1800,
        path=PATH,
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request),
    )
    return response


@router.post("/signin")
async def signin(request: Request) -> Response:
    form = await _form(request)
    token, csrf = _one(form, "token", 64).strip(), _one(form, "csrf", 64)
    pre = request.cookies.get(PRE_COOKIE, "")
    if not pre or not constant_equal(pre, csrf):
        return _signin_page(request, status=403)
    store = hotline_of(request).store
    now = utcnow()
    if not _limiter(request).allow(web_state(request).address(request)):
        await _audit(store, "translate.signin_limited", None, now)
        return _signin_page(request, _t("bad_token"), status=429)
    async with transaction(store.sessions) as session:
        found = await store_t.by_token(session, store.vault, token)
        if found is None:
            await audit.append(
                session, store.keyring, action="translate.signin_refused", actor_role=ROLE, at=now
            )
        else:
            cookie = secrets.token_urlsafe(32)
            state = {
                "tr": found.id,
                "lang": found.lang,
                "csrf": secrets.token_urlsafe(24),
                "exp": (now + SESSION_TTL).timestamp(),
            }
            await conversations.save(
                session, store.vault, _session_key(store, cookie), state, now=now, ttl=IDLE_TTL
            )
            await audit.append(
                session,
                store.keyring,
                action="translate.signed_in",
                actor_role=ROLE,
                actor_id=found.id,
                at=now,
            )
    if found is None:
        return _signin_page(request, _t("bad_token"), status=403)
    response = RedirectResponse(PATH, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=int(SESSION_TTL.total_seconds()),
        path=PATH,
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request),
    )
    response.delete_cookie(PRE_COOKIE, path=PATH)
    return response


@router.post("/signout")
async def signout(request: Request) -> Response:
    csrf = _one(await _form(request), "csrf", 64)
    state = await _session(request)
    response = RedirectResponse(PATH, status_code=303)
    response.delete_cookie(SESSION_COOKIE, path=PATH)
    if state is None or not constant_equal(state["csrf"], csrf):
        return response
    store = hotline_of(request).store
    async with transaction(store.sessions) as session:
        await conversations.shred(session, store.vault, _session_key(store, state["token"]))
        await audit.append(
            session,
            store.keyring,
            action="translate.signed_out",
            actor_role=ROLE,
            actor_id=state["tr"],
            at=utcnow(),
        )
    return response


# -- the list -----------------------------------------------------------------------------------


def _header(state: dict[str, Any]) -> str:
    return (
        f'<header class="top"><h1>{_e(_t("title"))}</h1>'
        f"<p>{_e(_t('lang_line', name=LANG_NAMES[state['lang']]))} · "
        f"{_e(_t('you', name=state['name']))}</p>"
        f'<form method="post" action="{PATH}/signout">'
        f'<input type="hidden" name="csrf" value="{_e(state["csrf"])}">'
        f'<button type="submit">{_e(_t("signout"))}</button></form></header>'
    )


_FILTERS = (("all", "filter_all"), ("todo", "filter_todo"), ("draft", "filter_draft"))
_FILTERS += (("reviewed", "filter_reviewed"),)


def _state_label(row) -> str:
    if row is None:
        return _t("state_none")
    return _t("state_reviewed") if row.state == W.REVIEWED else _t("state_draft")


@router.get("", response_class=HTMLResponse)
async def workshop(request: Request, show: str = "all", group: str = "") -> Response:
    state = await _session(request)
    if state is None:
        return _signin_page(request)
    store = hotline_of(request).store
    lang = state["lang"]
    async with transaction(store.sessions) as session:
        rows = await store_t.all_of(session, lang)
    infos = workshop_texts()
    states = {k: r.state for k, r in rows.items()}
    progress = "".join(
        f"<tr><th scope='row'>{_e(_v(p.label))}</th>"
        f"<td>{_e(_t('progress_row', reviewed=p.reviewed, total=p.total, drafted=p.drafted))}"
        f"</td><td><progress max='{p.total}' value='{p.reviewed}' "
        f"aria-label='{_e(_v(p.label))}'>{p.reviewed}/{p.total}</progress></td></tr>"
        for p in W.progress(infos, states)
    )
    pending = sum(1 for r in rows.values() if store_t.pending_export(r))
    heard = sum(1 for r in rows.values() if r.state == W.REVIEWED and store_t.audio_pending(r))
    note = (
        f'<p class="pending" id="pending">{_e(_t("pending", n=pending, audio=heard, lang=lang))}</p>'
        if pending or heard
        else ""
    )
    show = show if show in dict(_FILTERS) else "all"
    group = group if group in W.GROUPS else ""
    shown = []
    for info in infos:
        row = rows.get(info.msgid)
        if group and info.group != group:
            continue
        if show == "todo" and row is not None:
            continue
        if show in ("draft", "reviewed") and (row is None or row.state != show):
            continue
        mark = (
            f' <span class="tag">{_e(_t("pending_one"))}</span>'
            if row and store_t.pending_export(row)
            else ""
        )
        shown.append(
            f'<li data-id="{_e(info.msgid)}"><a href="{PATH}/t/{quote(info.msgid)}">'
            f"<code>{_e(info.msgid)}</code> {_e((info.vi or ('',))[0][:90])}</a>"
            f' <span class="state">{_e(_state_label(row))}</span>{mark}</li>'
        )
    filters = "".join(
        f'<option value="{k}"{" selected" if k == show else ""}>{_e(_t(label))}</option>'
        for k, label in _FILTERS
    )
    groups = f'<option value="">{_e(_t("filter_all"))}</option>' + "".join(
        f'<option value="{g}"{" selected" if g == group else ""}>{_e(_v(label))}</option>'
        for g, label in W.GROUPS.items()
    )
    body = (
        _header(state)
        + f"<main><h2>{_e(_t('progress'))}</h2><table class='progress'>{progress}</table>{note}"
        f"<h2>{_e(_t('texts'))}</h2>"
        f'<form method="get" action="{PATH}" class="filter">'
        f'<label for="show">{_e(_t("filter"))}</label><select id="show" name="show">{filters}</select>'
        f'<label for="group">{_e(_t("progress"))}</label>'
        f'<select id="group" name="group">{groups}</select>'
        f'<button type="submit">{_e(_t("filter_go"))}</button></form>'
        f'<ul class="texts">{"".join(shown)}</ul></main>'
    )
    return HTMLResponse(_page(body))


# -- one text ----------------------------------------------------------------------------------


def _text_page(
    state: dict[str, Any],
    info: W.TextInfo,
    row,
    *,
    message: str = "",
    typed: tuple[str, ...] | None = None,
    alert: bool = False,
) -> str:
    lang = state["lang"]
    nplurals = W.nplurals(lang)
    forms = typed if typed is not None else (store_t.forms_of(row) if row else ())
    count = nplurals if info.plural else 1
    csrf = f'<input type="hidden" name="csrf" value="{_e(state["csrf"])}">'
    fields = []
    for i in range(count):
        value = forms[i] if i < len(forms) else ""
        label = _t("form", i=i + 1) if info.plural else _t("translation")
        fields.append(
            f'<label for="f{i}">{_e(label)}</label>'
            f'<textarea id="f{i}" name="f{i}" rows="4" maxlength="4000" lang="{_e(lang)}"'
            f' aria-describedby="rules">{_e(value)}</textarea>'
        )
    rules = []
    if info.placeholders:
        names = ", ".join("{" + n + "}" for n in sorted(info.placeholders))
        rules.append(_t("placeholders", names=names))
    if info.plural:
        rules.append(_t("plural", n=nplurals))
    where = []
    if info.steps:
        where.append(_t("steps", steps=", ".join(info.steps)))
    if info.files:
        where.append(_t("files", files=", ".join(info.files)))
    where.append(_v(W.GROUPS[info.group]))
    review = ""
    status = _state_label(row)
    if row is not None and row.state == W.DRAFT:
        own = not W.may_review(row.drafted_by, state["tr"])
        status += " · " + (_t("by_you") if own else _t("by_other"))
        if own:
            review = f'<p class="hint">{_e(_t("own"))}</p>'
        else:
            review = (
                f'<form method="post" action="{PATH}/t/{quote(info.msgid)}/review">{csrf}'
                f'<button type="submit" class="primary">{_e(_t("review"))}</button></form>'
            )
    audio = _audio_block(state, info, row)
    note = ""
    if message:
        role = ' role="alert"' if alert else ' role="status"'
        note = f'<p class="note{" bad" if alert else ""}"{role}>{_e(message)}</p>'
    source = "".join(f"<p lang='vi'>{_e(s)}</p>" for s in info.vi)
    english = "".join(f"<p lang='en'>{_e(s)}</p>" for s in info.en)
    return (
        _header(state) + f'<main class="text"><p><a href="{PATH}">{_e(_t("back"))}</a></p>'
        f"<h2><code>{_e(info.msgid)}</code></h2>{note}"
        f'<p class="state" id="state">{_e(status)}</p>'
        f'<section aria-labelledby="h-vi"><h3 id="h-vi">{_e(_t("vi"))}</h3>{source}</section>'
        f'<section aria-labelledby="h-en"><h3 id="h-en">{_e(_t("en"))}</h3>{english}</section>'
        f'<section aria-labelledby="h-where"><h3 id="h-where">{_e(_t("where"))}</h3>'
        + "".join(f"<p>{_e(w)}</p>" for w in where)
        + "</section>"
        f'<ul id="rules" class="rules">{"".join(f"<li>{_e(r)}</li>" for r in rules)}</ul>'
        f'<form method="post" action="{PATH}/t/{quote(info.msgid)}/save">{csrf}'
        f'{"".join(fields)}<button type="submit">{_e(_t("save"))}</button></form>'
        f"{review}{audio}</main>"
    )


def _audio_block(state: dict[str, Any], info: W.TextInfo, row) -> str:
    if row is None:
        return f'<section class="audio"><p class="hint">{_e(_t("audio_need_text"))}</p></section>'
    digest = speech.text_hash(store_t.forms_of(row)[0])
    if row.audio and row.audio_hash == digest:
        player = (
            f'<audio id="saved-audio" controls preload="none" aria-label="{_e(_t("listen"))}" '
            f'src="{PATH}/t/{quote(info.msgid)}/audio"></audio>'
        )
    elif row.audio:
        player = f'<p class="hint">{_e(_t("audio_stale"))}</p>'
    else:
        player = f'<p class="hint" id="no-audio">{_e(_t("audio_none"))}</p>'
    labels = {k: _t(k) for k in ("record", "stop", "redo", "upload", "audio_saved")}
    labels |= {"bad": _t("audio_bad"), "no_mic": _t("no_mic"), "listen": _t("listen")}
    data = " ".join(f'data-{k.replace("_", "-")}="{_e(v)}"' for k, v in labels.items())
    return (
        f'<section class="audio" aria-labelledby="h-rec"><h3 id="h-rec">{_e(_t("record"))}</h3>'
        f'<p class="hint">{_e(_t("recording_hint"))}</p>{player}'
        f'<div id="recorder" hidden data-url="{PATH}/t/{quote(info.msgid)}/audio" '
        f'data-csrf="{_e(state["csrf"])}" {data}>'
        f'<button type="button" id="rec">{_e(_t("record"))}</button>'
        f'<button type="button" id="stop" disabled>{_e(_t("stop"))}</button>'
        f'<audio id="take" controls hidden aria-label="{_e(_t("listen"))}"></audio>'
        f'<button type="button" id="upload" disabled>{_e(_t("upload"))}</button>'
        '<p id="rec-status" role="status"></p></div></section>'
    )


async def _text_state(request: Request, msgid: str):
    state = await _session(request)
    info = workshop_text(msgid) if len(msgid) <= 120 else None
    return state, info


@router.get("/t/{msgid}", response_class=HTMLResponse)
async def text(request: Request, msgid: str, m: str = "") -> Response:
    state, info = await _text_state(request, msgid)
    if state is None:
        return _signin_page(request, _t("expired"))
    if info is None:
        return HTMLResponse(_page(f"<p>{_e(_t('refused'))}</p>"), status_code=404)
    store = hotline_of(request).store
    async with transaction(store.sessions) as session:
        row = await store_t.get(session, state["lang"], msgid)
    message = {"saved": _t("saved"), "reviewed": _t("reviewed_ok")}.get(m, "")
    return HTMLResponse(_page(_text_page(state, info, row, message=message), script=True))


async def _refuse(request, store, state, info, row, action, message, typed=None, status=422):
    await _audit(store, action, state["tr"], utcnow())
    page = _text_page(state, info, row, message=message, typed=typed, alert=True)
    return HTMLResponse(_page(page, script=True), status_code=status)


@router.post("/t/{msgid}/save")
async def save(request: Request, msgid: str) -> Response:
    form = await _form(request)
    state, info = await _text_state(request, msgid)
    if state is None:
        return _signin_page(request, _t("expired"))
    if info is None:
        return HTMLResponse(_page(f"<p>{_e(_t('refused'))}</p>"), status_code=404)
    store = hotline_of(request).store
    lang, now = state["lang"], utcnow()
    count = W.nplurals(lang) if info.plural else 1
    typed = tuple(_one(form, f"f{i}", 4000).replace("\r\n", "\n") for i in range(count))
    async with transaction(store.sessions) as session:
        row = await store_t.get(session, lang, msgid)
    if not constant_equal(state["csrf"], _one(form, "csrf", 64)) or not _acts(request, state):
        return await _refuse(
            request, store, state, info, row, "translate.save_refused", _t("refused"), typed, 403
        )
    problems = W.check(typed, info, W.nplurals(lang))
    if problems:
        why = " ".join(_v(p.msgid, names=p.names, n=p.names) for p in problems)
        return await _refuse(request, store, state, info, row, "translate.save_refused", why, typed)
    async with transaction(store.sessions) as session:
        await store_t.save_draft(session, lang, msgid, typed, by=state["tr"], now=now)
        await audit.append(
            session,
            store.keyring,
            action="translate.saved",
            actor_role=ROLE,
            actor_id=state["tr"],
            at=now,
        )
    return RedirectResponse(f"{PATH}/t/{quote(msgid)}?m=saved", status_code=303)


@router.post("/t/{msgid}/review")
async def review(request: Request, msgid: str) -> Response:
    form = await _form(request)
    state, info = await _text_state(request, msgid)
    if state is None:
        return _signin_page(request, _t("expired"))
    if info is None:
        return HTMLResponse(_page(f"<p>{_e(_t('refused'))}</p>"), status_code=404)
    store = hotline_of(request).store
    lang, now = state["lang"], utcnow()
    ok = constant_equal(state["csrf"], _one(form, "csrf", 64)) and _acts(request, state)
    async with transaction(store.sessions) as session:
        done = await store_t.review(session, lang, msgid, by=state["tr"], now=now) if ok else None
        row = await store_t.get(session, lang, msgid)
        if done is not None and done.done:
            await audit.append(
                session,
                store.keyring,
                action="translate.reviewed",
                actor_role=ROLE,
                actor_id=state["tr"],
                at=now,
            )
    if done is None or not done.done:
        why = _t("own") if done is not None and done.why == "own" else _t("refused")
        return await _refuse(
            request, store, state, info, row, "translate.review_refused", why, None, 403
        )
    return RedirectResponse(f"{PATH}/t/{quote(msgid)}?m=reviewed", status_code=303)


@router.post("/t/{msgid}/audio")
async def record(request: Request, msgid: str) -> Response:
    """A recording of the text's saved words (raw body, WebM or Ogg Opus, size-limited)."""
    state, info = await _text_state(request, msgid)
    if state is None or info is None:
        return Response(status_code=403 if state is None else 404)
    store = hotline_of(request).store
    now = utcnow()
    data, size = bytearray(), 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > store_t.MAX_AUDIO:
            await _audit(store, "translate.record_refused", state["tr"], now)
            return Response(_t("audio_bad"), status_code=413, media_type="text/plain")
        data += chunk
    kind = web_audio.sniff(bytes(data))
    csrf_ok = constant_equal(state["csrf"], request.headers.get("x-csrf", ""))
    csrf_ok = csrf_ok and _acts(request, state)
    if not csrf_ok or kind not in (web_audio.WEBM, web_audio.OGG):
        await _audit(store, "translate.record_refused", state["tr"], now)
        return Response(
            _t("audio_bad"), status_code=415 if csrf_ok else 403, media_type="text/plain"
        )
    async with transaction(store.sessions) as session:
        row = await store_t.get(session, state["lang"], msgid)
        if row is not None:
            digest = speech.text_hash(store_t.forms_of(row)[0])
            await store_t.record(
                session, state["lang"], msgid, bytes(data), kind, digest, by=state["tr"], now=now
            )
        await audit.append(
            session,
            store.keyring,
            action="translate.recorded" if row is not None else "translate.record_refused",
            actor_role=ROLE,
            actor_id=state["tr"],
            at=now,
        )
    if row is None:
        return Response(_t("audio_need_text"), status_code=409, media_type="text/plain")
    return Response(_t("audio_saved"), status_code=200, media_type="text/plain")


@router.get("/t/{msgid}/audio")
async def listen(request: Request, msgid: str) -> Response:
    state, info = await _text_state(request, msgid)
    if state is None or info is None:
        return Response(status_code=404)
    store = hotline_of(request).store
    async with transaction(store.sessions) as session:
        row = await store_t.get(session, state["lang"], msgid)
    if row is None or not row.audio:
        return Response(status_code=404)
    return Response(
        row.audio, media_type=row.audio_type or "audio/webm", headers={"Cache-Control": "no-store"}
    )
