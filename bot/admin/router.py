"""``/admin/stats``: the statistics page for province officers (token sign-in, audited).

Wiring (``bot/app.py``): ``app.include_router(stats_router())``. The router reads the
running :class:`~bot.runtime.Runtime` from ``app.state.runtime`` (its ``store`` and
``settings``). Officers sign in with a token issued by ``hotline stats token``; the
configuration keeps only its hash (``HOTLINE_ADMIN_TOKENS``, see :mod:`bot.admin.tokens`).
The browser then holds only a server-side session's id (:mod:`bot.admin.sessions`).
A province officer sees only their province. Every page view and download is appended
to the audit log (officer id, action, time; never content); refused sign-ins are
counted per window (:mod:`storage.refusals`).

The page is plain HTML with inline SVG charts: no scripts, no external resources, and a
Content-Security-Policy that forbids them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from html import escape
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.admin import charts, sessions
from bot.admin.export import (
    FORMATS,
    compute_report,
    period_from,
    render,
    sla_from_settings,
    table_blocks,
)
from bot.admin.report import KINDS, OFFICIAL, PUBLIC, commune_label, province_label
from bot.admin.tokens import Officer, TokenRegistry
from storage import audit, refusals
from storage.db import transaction
from storage.stats import LOCAL_OFFSET, Period

__all__ = ["COOKIE", "stats_router"]

COOKIE = "lt_admin"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
TOP_COMMUNES = 30
STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'Noto Sans',sans-serif;margin:24px;
color:#1d2733;max-width:1100px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}
table{border-collapse:collapse;font-size:13px;margin:8px 0 20px}
th,td{border:1px solid #ccd5de;padding:3px 7px;text-align:right}
th:first-child,td:first-child{text-align:left}thead th{background:#e6eef5}
tr.total td{font-weight:600}.note{color:#555;font-size:13px}
.label{font-weight:600}.label.official{color:#9c0006;border:2px solid #9c0006;padding:6px}
form.inline{display:inline}fieldset{border:1px solid #ccd5de;padding:8px 12px}
.charts svg{display:block;margin:12px 0 24px;max-width:100%;height:auto}
"""


def _registry(request: Request) -> TokenRegistry:
    settings = request.app.state.runtime.settings
    configured = getattr(settings, "admin_tokens", None)
    if configured is not None:
        text = (
            configured.get_secret_value() if hasattr(configured, "get_secret_value") else configured
        )
        return TokenRegistry.parse(text)
    return TokenRegistry.from_env()


async def _officer(request: Request) -> Officer | None:
    """A bearer token (scripts), or the browser's server-side session (bot.admin.sessions)."""
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return _registry(request).verify(auth[7:].strip())
    store = request.app.state.runtime.store
    return await sessions.officer_of(
        store, _registry(request), request.cookies.get(COOKIE), now=datetime.now(UTC)
    )


def _page(body: str, status: int = 200) -> HTMLResponse:
    html = (
        '<!doctype html><html lang="vi"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Thống kê — Lên Tiếng</title><style>{STYLE}</style></head><body>{body}"
        "</body></html>"
    )
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


def _sign_in_page(message: str = "", status: int = 401) -> HTMLResponse:
    note = f'<p class="note" role="alert">{escape(message)}</p>' if message else ""
    return _page(
        "<h1>Thống kê Lên Tiếng — đăng nhập</h1>"
        "<p>Dành cho cán bộ cấp tỉnh. Nhập mã truy cập được cấp.</p>"
        f"{note}"
        '<form method="post" action="/admin/stats/sign-in">'
        '<label>Mã truy cập <input type="password" name="token" autocomplete="off" '
        'required size="50"></label> <button type="submit">Đăng nhập</button></form>',
        status,
    )


def _today_local(now: datetime) -> date:
    return now.astimezone(LOCAL_OFFSET).date()


def _period(officer: Officer, params: dict[str, str], now: datetime) -> Period:
    """The period asked (a preset with its year, or dates; default: this year so far), for
    a commune, a province or the nation, as of a cut-off day. A province officer's scope
    is their province (a commune of it at most). Raises ``ValueError``."""
    today = _today_local(now)

    def number(name: str) -> int | None:
        return int(params[name]) if params.get(name) else None

    def day(name: str) -> date | None:
        return date.fromisoformat(params[name]) if params.get(name) else None

    # The officer's own scope wins over what is asked: a province's officer gets their
    # province (or a commune of it), a commune's officer their commune only.
    province = officer.province or (params.get("province") or None)
    commune = officer.commune or (params.get("commune") or None)
    preset = params.get("period") or None
    if preset is None and not params.get("from"):
        start = date(today.year, 1, 1)
    else:
        start = day("from")
    return period_from(
        preset=preset, year=number("year") or today.year, month=number("month"),
        half=number("half"), date_from=start, date_to=day("to") or today,
        province=province, commune=commune, as_of=day("as_of"),
    )  # fmt: skip


class Refused(Exception):
    """An official report asked with a token that may not get it."""


def _kind(officer: Officer, params: dict[str, str]) -> str:
    """``public`` by default; ``official`` only for a restricted (official) token."""
    kind = params.get("kind") or PUBLIC
    if kind not in KINDS:
        raise ValueError(kind)
    if kind == OFFICIAL and not officer.official:
        raise Refused
    return kind


async def _report(
    request: Request,
    officer: Officer,
    period: Period,
    action: str,
    communes: bool = True,
    kind: str = PUBLIC,
) -> dict:
    if not officer.covers(period.province, period.commune):  # never reached: _period
        raise Refused
    runtime = request.app.state.runtime
    return await compute_report(
        runtime.store, period, sla_minutes=sla_from_settings(runtime.settings),
        now=datetime.now(UTC), actor_role="province_officer", actor_id=officer.id,
        action=action, communes=communes, kind=kind,
    )  # fmt: skip


def _refused() -> HTMLResponse:
    return _page("<h1>Không được phép</h1><p>Báo cáo chính thức chỉ dành cho mã truy cập "
                 "của cơ quan có trách nhiệm.</p>", 403)  # fmt: skip


def _table(t: dict[str, Any]) -> str:
    header, body = table_blocks(t)
    has_total = t.get("col_totals") is not None
    out = [f"<h2>{escape(t['title_vi'])}</h2><table><thead><tr>"]
    out += [f'<th scope="col">{escape(str(h))}</th>' for h in header]
    out.append("</tr></thead><tbody>")
    for k, line in enumerate(body):
        cls = ' class="total"' if has_total and k == len(body) - 1 else ""
        cells = "".join(f"<td>{escape(charts._fmt(v, ''))}</td>" for v in line)
        out.append(f"<tr{cls}>{cells}</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _by_id(report: dict[str, Any], tid: str) -> dict[str, Any] | None:
    return next((t for t in report["tables"] if t["id"] == tid), None)


def _sort_key(value: Any) -> float:
    # Suppressed values sort as zero: their true size must not leak through the order.
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def render_charts(report: dict[str, Any]) -> list[str]:
    """The page's four charts, from the published report only."""
    out = []
    by_month = _by_id(report, "reports_by_province_month")
    if by_month:
        labels = [c["label"].replace("Tháng ", "T") for c in by_month["columns"]]
        out.append(charts.bar_chart("Số tin báo theo tháng", labels, by_month["col_totals"]))
    province = report["period"]["province"]
    if province:
        communes = _by_id(report, f"reports_by_commune_month:{province}")
        if communes:
            labels = [r["label"] for r in communes["rows"]]
            pairs = list(zip(labels, communes["row_totals"], strict=True))
            pairs = [p for p in pairs if p[1] != 0]
            pairs.sort(key=lambda p: (-_sort_key(p[1]), p[0]))
            pairs = pairs[:TOP_COMMUNES]
            out.append(
                charts.hbar_chart(
                    f"Số tin báo theo xã (tối đa {TOP_COMMUNES} xã)",
                    [p[0] for p in pairs],
                    [p[1] for p in pairs],
                )  # fmt: skip
            )
    elif by_month:
        pairs = [
            (r["label"], v) for r, v in zip(by_month["rows"], by_month["row_totals"], strict=True)
        ]
        out.append(
            charts.hbar_chart("Số tin báo theo tỉnh", [p[0] for p in pairs], [p[1] for p in pairs])
        )
    ack = _by_id(report, "acknowledgement")
    if ack:
        j = [c["code"] for c in ack["columns"]].index("within_sla_share")
        out.append(
            charts.bar_chart(
                "Tỷ lệ xác nhận đúng hạn theo mức độ khẩn cấp (%)",
                [r["label"] for r in ack["rows"]],
                [line[j] for line in ack["cells"]],
                unit="%",
                max_value=100.0,
                height=240,
            )  # fmt: skip
        )
    coverage = _by_id(report, "coverage")
    if coverage:
        codes = [c["code"] for c in coverage["columns"]]
        fp, sh = codes.index("with_focal_point_share"), codes.index("with_shelter_share")
        out.append(
            charts.grouped_hbar_chart(
                "Độ bao phủ theo tỉnh (% số xã; mục tiêu 100%)",
                [r["label"] for r in coverage["rows"]],
                [
                    ("Có đầu mối", [line[fp] for line in coverage["cells"]]),
                    ("Có nơi tạm lánh", [line[sh] for line in coverage["cells"]]),
                ],
                unit="%",
                max_value=100.0,
                row=12,
            )  # fmt: skip
        )
    return out


def _stats_page(officer: Officer, report: dict[str, Any], params: dict[str, str]) -> str:
    period = report["period"]
    where = province_label(period["province"]) if period["province"] else "toàn quốc"
    if period.get("commune"):
        where = f"{commune_label(period['commune'])}, {where}"
    query = f"from={period['from']}&amp;to={period['to']}"
    for key in ("province", "commune", "as_of"):
        if period.get(key):
            query += f"&amp;{key}={escape(period[key])}"
    if report.get("kind") == OFFICIAL:
        query += f"&amp;kind={OFFICIAL}"
    as_of = f" Số liệu tính đến hết ngày {escape(period['as_of'])}." if period.get("as_of") else ""
    presets = "".join(
        f'<option value="{v}"{" selected" if params.get("period") == v else ""}>{label}</option>'
        for v, label in (("", "Theo ngày"), ("month", "Tháng"), ("half", "6 tháng"),
                         ("year", "Năm"), ("action", "Tháng hành động (15/11–15/12)"))
    )  # fmt: skip
    preset_fields = (
        f'<label>Kỳ <select name="period">{presets}</select></label> '
        f'<label>Năm <input name="year" size="4" value="{escape(params.get("year", ""))}"></label> '
        f'<label>Tháng <input name="month" size="2" value="{escape(params.get("month", ""))}">'
        "</label> "
        f'<label>Nửa năm (1/2) <input name="half" size="1" value="{escape(params.get("half", ""))}">'
        "</label> "
        f'<label>Tính đến ngày <input type="date" name="as_of" '
        f'value="{escape(period.get("as_of") or "")}"></label> '
        f'<label>Xã (mã) <input name="commune" size="5" '
        f'value="{escape(period.get("commune") or "")}"></label> '
    )
    links = " · ".join(
        f'<a href="/admin/stats/export?format={f}&amp;{query}">{f.upper()}</a>' for f in FORMATS
    )
    province_field = (
        f"Tỉnh: {escape(province_label(officer.province))}"
        if officer.province
        else '<label>Tỉnh (mã) <input name="province" size="3" '
        f'value="{escape(period["province"] or "")}"></label>'
    )
    official = report.get("kind") == OFFICIAL
    other = ""
    if officer.official:  # a restricted token may switch between the two reports
        switch = PUBLIC if official else OFFICIAL
        name = "Báo cáo công khai" if official else "Báo cáo chính thức"
        other = (f' · <a href="/admin/stats?{query.replace("&amp;kind=official", "")}'
                 f'&amp;kind={switch}">{name}</a>')  # fmt: skip
    parts = [
        f'<p class="label{" official" if official else ""}" role="note">'
        f"{escape(report.get('label_vi', ''))}</p>",
        f"<h1>Thống kê Lên Tiếng — {escape(where)}</h1>",
        f'<p class="note">Kỳ: {escape(period["from"])} – {escape(period["to"])}.{as_of} '
        "Chỉ tính tin báo có đồng ý thống kê. "
        + (
            "Số liệu chính xác, không che. "
            if official
            else "Số từ 1 đến 4 ghi là &lt;5; ô che bổ sung ghi là x. "
        )
        + f"Cán bộ: {escape(officer.id)}.</p>",
        '<form method="get" action="/admin/stats"><fieldset>'
        f'<label>Từ ngày <input type="date" name="from" value="{escape(period["from"])}"></label> '
        f'<label>Đến ngày <input type="date" name="to" value="{escape(period["to"])}"></label> '
        f'{province_field} {preset_fields}<button type="submit">Xem</button></fieldset></form>',
        f"<p>Tải về: {links}{other}</p>",
        '<form class="inline" method="post" action="/admin/stats/sign-out">'
        '<button type="submit">Đăng xuất</button></form>',
        '<section class="charts">',
        *render_charts(report),
        "</section>",
    ]
    for t in report["tables"]:
        if t["id"].startswith("reports_by_commune_month") and not period["province"]:
            continue  # national view: commune tables are in the downloads
        parts.append(_table(t))
    for item in report["not_available"]:
        parts.append(
            f'<p class="note">Chưa có: {escape(item["title_vi"])} — cần thay đổi '
            "cấu trúc dữ liệu (hiện được mã hóa, thống kê không giải mã).</p>"
        )
    return "".join(parts)


def stats_router() -> APIRouter:
    """The ``/admin/stats`` routes."""
    router = APIRouter()

    @router.get("/admin/stats", response_class=HTMLResponse, include_in_schema=False)
    async def stats_page(request: Request) -> Response:
        officer = await _officer(request)
        if officer is None:
            return _sign_in_page()
        params = dict(request.query_params)
        try:
            period = _period(officer, params, datetime.now(UTC))
            kind = _kind(officer, params)
        except ValueError:
            return _page("<h1>Yêu cầu không hợp lệ</h1><p>Ngày dạng YYYY-MM-DD, mã tỉnh 2 số.</p>",
                         400)  # fmt: skip
        except Refused:
            return _refused()
        # The national page leaves the 3,321 commune rows to the downloads.
        report = await _report(
            request, officer, period, "stats.viewed", communes=period.province is not None,
            kind=kind,
        )  # fmt: skip
        return _page(_stats_page(officer, report, params))

    @router.get("/admin/stats/export", include_in_schema=False)
    async def stats_export(request: Request, format: str = "json") -> Response:
        officer = await _officer(request)
        if officer is None:
            return _sign_in_page()
        if format not in FORMATS:
            return _page("<h1>Định dạng không hợp lệ</h1>", 400)
        params = dict(request.query_params)
        try:
            period = _period(officer, params, datetime.now(UTC))
            kind = _kind(officer, params)
        except ValueError:
            return _page("<h1>Yêu cầu không hợp lệ</h1>", 400)
        except Refused:
            return _refused()
        report = await _report(request, officer, period, "stats.exported", kind=kind)
        scope = "".join(f"-{x}" for x in (period.province, period.commune) if x)
        prefix = "bao-cao-chinh-thuc" if kind == OFFICIAL else "thong-ke"
        name = f"{prefix}-{period.start}-{period.end}{scope}.{format}"
        headers = dict(SECURITY_HEADERS)
        headers["Content-Disposition"] = f'attachment; filename="{name}"'
        return Response(render(report, format), media_type=MEDIA[format], headers=headers)

    @router.post("/admin/stats/sign-in", include_in_schema=False)
    async def sign_in(request: Request) -> Response:
        # A urlencoded form with one field, parsed here (no multipart dependency).
        body = await request.body()
        fields = parse_qs(body[:4096].decode("utf-8", "replace")) if len(body) <= 4096 else {}
        token = (fields.get("token") or [""])[0].strip()
        officer = _registry(request).verify(token)
        store = request.app.state.runtime.store
        async with transaction(store.sessions) as session:
            if officer is None:  # counted per window: a flood writes no row per attempt
                await refusals.count(
                    session, store.keyring, "stats.sign_in_refused", at=datetime.now(UTC)
                )
            else:
                await audit.append(
                    session, store.keyring, action="stats.signed_in",
                    actor_role="province_officer", actor_id=officer.id, at=datetime.now(UTC),
                )  # fmt: skip
        if officer is None:
            return _sign_in_page("Mã truy cập không đúng.")
        session_id = await sessions.open_session(store, token, now=datetime.now(UTC))
        response = RedirectResponse("/admin/stats", status_code=303, headers=SECURITY_HEADERS)
        response.set_cookie(
            COOKIE, session_id, httponly=True, samesite="strict", path="/admin",
            secure=request.url.scheme == "https",
            max_age=int(sessions.SESSION_TTL.total_seconds()),
        )  # fmt: skip
        return response

    @router.post("/admin/stats/sign-out", include_in_schema=False)
    async def sign_out(request: Request) -> Response:
        store = request.app.state.runtime.store
        await sessions.close_session(store, request.cookies.get(COOKIE))
        response = RedirectResponse("/admin/stats", status_code=303, headers=SECURITY_HEADERS)
        response.delete_cookie(COOKIE, path="/admin")
        return response

    return router
