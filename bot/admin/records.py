"""``/admin/training`` and ``/admin/communication``: what province officers record beside
the cases (issue 20): each focal point's training (course, date) and the communication
activities (kind, date, reach).

Same sign-in, session, headers and page style as ``/admin/stats`` (:mod:`bot.admin.router`):
a province officer records and sees only their province; a national officer names the
province. Every entry is audited (:mod:`storage.training`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from html import escape
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.admin.report import province_label
from bot.admin.router import SECURITY_HEADERS, _officer, _page, _sign_in_page
from bot.admin.tokens import Officer
from storage import training
from storage.db import transaction

__all__ = ["records_router"]


async def _form(request: Request) -> dict[str, str]:
    body = await request.body()
    if len(body) > 4096:
        return {}
    fields = parse_qs(body.decode("utf-8", "replace"))
    return {k: v[0].strip() for k, v in fields.items() if v}


def _province(officer: Officer, asked: str | None) -> str | None:
    """The officer's own province; a national officer's choice (None: all, for lists)."""
    if officer.province is not None:
        return officer.province
    asked = (asked or "").strip()
    return asked if asked.isdigit() and len(asked) <= 3 else None


def _date(text: str | None) -> date:
    try:
        return date.fromisoformat(text or "")
    except ValueError:
        raise training.RecordError("Ngày dạng YYYY-MM-DD.") from None


def _nav(officer: Officer) -> str:
    where = province_label(officer.province) if officer.province else "toàn quốc"
    return (
        '<p><a href="/admin/stats">Thống kê</a> · <a href="/admin/training">Tập huấn</a> · '
        f'<a href="/admin/communication">Truyền thông</a> — {escape(where)}, cán bộ '
        f"{escape(officer.id)}</p>"
    )


def _province_field(officer: Officer) -> str:
    if officer.province:
        return ""
    return '<label>Tỉnh (mã) <input name="province" size="3" required></label> '


def _note(message: str | None) -> str:
    return f'<p class="note" role="alert">{escape(message)}</p>' if message else ""


async def _training_page(request: Request, officer: Officer, message: str | None = None) -> str:
    store = request.app.state.runtime.store
    province = _province(officer, request.query_params.get("province"))
    async with transaction(store.sessions) as session:
        focal = await training.focal_points_of(session, province)
        rows = await training.training_of(session, province)
    trained = {r.focal_point_id for r in rows}
    share = f"{100 * len(trained & {f.id for f in focal}) / len(focal):.0f}%" if focal else "—"
    options = "".join(
        f'<option value="{escape(f.id)}">{escape(f.id)} ({escape(province_label(f.province_code))})'
        "</option>"
        for f in focal
    )
    table = "".join(
        f"<tr><td>{escape(r.focal_point_id)}</td><td>{escape(r.course)}</td>"
        f"<td>{r.held_on.isoformat()}</td><td>{escape(province_label(r.province_code))}</td></tr>"
        for r in rows
    )
    return (
        "<h1>Tập huấn đầu mối</h1>" + _nav(officer) + _note(message)
        + f"<p>Đầu mối đã được tập huấn: {len(trained & {f.id for f in focal})}/{len(focal)} "
        f"({share}).</p>"
        '<form method="post" action="/admin/training"><fieldset>'
        f'<label>Đầu mối <select name="focal_point" required>{options}</select></label> '
        f'<label>Khoá học <input name="course" maxlength="{training.MAX_COURSE}" required></label> '
        '<label>Ngày <input type="date" name="date" required></label> '
        '<button type="submit">Ghi</button></fieldset></form>'
        '<table><thead><tr><th scope="col">Đầu mối</th><th scope="col">Khoá học</th>'
        '<th scope="col">Ngày</th><th scope="col">Tỉnh</th></tr></thead>'
        f"<tbody>{table}</tbody></table>"
    )  # fmt: skip


async def _communication_page(
    request: Request, officer: Officer, message: str | None = None
) -> str:
    store = request.app.state.runtime.store
    province = _province(officer, request.query_params.get("province"))
    async with transaction(store.sessions) as session:
        rows = await training.activities_of(session, province)
    kinds = "".join(
        f'<option value="{k}">{escape(label)}</option>'
        for k, label in training.ACTIVITY_KINDS.items()
    )
    table = "".join(
        f"<tr><td>{escape(training.ACTIVITY_KINDS.get(r.kind, r.kind))}</td>"
        f"<td>{r.held_on.isoformat()}</td><td>{r.reach}</td>"
        f"<td>{escape(province_label(r.province_code))}</td></tr>"
        for r in rows
    )
    return (
        "<h1>Hoạt động truyền thông</h1>" + _nav(officer) + _note(message)
        + f"<p>Số hoạt động: {len(rows)}; số người được tiếp cận: {sum(r.reach for r in rows)}.</p>"
        '<form method="post" action="/admin/communication"><fieldset>'
        f"{_province_field(officer)}"
        f'<label>Loại <select name="kind" required>{kinds}</select></label> '
        '<label>Ngày <input type="date" name="date" required></label> '
        '<label>Số người <input type="number" name="reach" min="0" required></label> '
        '<button type="submit">Ghi</button></fieldset></form>'
        '<table><thead><tr><th scope="col">Loại</th><th scope="col">Ngày</th>'
        '<th scope="col">Số người</th><th scope="col">Tỉnh</th></tr></thead>'
        f"<tbody>{table}</tbody></table>"
    )  # fmt: skip


def records_router() -> APIRouter:
    """The ``/admin/training`` and ``/admin/communication`` routes."""
    router = APIRouter()

    @router.get("/admin/training", response_class=HTMLResponse, include_in_schema=False)
    async def training_page(request: Request) -> Response:
        officer = await _officer(request)
        if officer is None:
            return _sign_in_page()
        return _page(await _training_page(request, officer))

    @router.post("/admin/training", include_in_schema=False)
    async def training_add(request: Request) -> Response:
        officer = await _officer(request)
        if officer is None:
            return _sign_in_page()
        fields = await _form(request)
        store = request.app.state.runtime.store
        now = datetime.now(UTC)
        try:
            held_on = _date(fields.get("date"))
            async with transaction(store.sessions) as session:
                await training.record_training(
                    session, store.keyring, officer_id=officer.id,
                    officer_province=officer.province,
                    focal_point_id=fields.get("focal_point", ""), course=fields.get("course", ""),
                    held_on=held_on, now=now,
                )  # fmt: skip
        except training.RecordError as refused:
            return _page(await _training_page(request, officer, str(refused)), 400)
        return RedirectResponse("/admin/training", status_code=303, headers=SECURITY_HEADERS)

    @router.get("/admin/communication", response_class=HTMLResponse, include_in_schema=False)
    async def communication_page(request: Request) -> Response:
        officer = await _officer(request)
        if officer is None:
            return _sign_in_page()
        return _page(await _communication_page(request, officer))

    @router.post("/admin/communication", include_in_schema=False)
    async def communication_add(request: Request) -> Response:
        officer = await _officer(request)
        if officer is None:
            return _sign_in_page()
        fields = await _form(request)
        store = request.app.state.runtime.store
        now = datetime.now(UTC)
        try:
            province = _province(officer, fields.get("province"))
            if province is None:
                raise training.RecordError("Mã tỉnh: 2 số.")
            reach_text = fields.get("reach", "")
            if not reach_text.isdigit():
                raise training.RecordError("Số người được tiếp cận: từ 0.")
            held_on = _date(fields.get("date"))
            async with transaction(store.sessions) as session:
                await training.record_activity(
                    session, store.keyring, officer_id=officer.id, province=province,
                    kind=fields.get("kind", ""), held_on=held_on, reach=int(reach_text[:9]),
                    now=now,
                )  # fmt: skip
        except training.RecordError as refused:
            return _page(await _communication_page(request, officer, str(refused)), 400)
        return RedirectResponse("/admin/communication", status_code=303, headers=SECURITY_HEADERS)

    return router
