"""``/admin/stats``: refused without a valid token, audited, SVG charts, no scripts."""

from __future__ import annotations

import re
from types import SimpleNamespace

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import select

from bot.admin import stats_router
from bot.admin.router import COOKIE, render_charts
from bot.admin.tokens import TokenRegistry, issue_token
from storage.db import transaction
from storage.models import AuditEvent, RefusalCount
from tests.stats.helpers import DAK_LAK, build_spec, seed


def make_app(store, tokens: str) -> FastAPI:
    app = FastAPI()
    app.include_router(stats_router())
    settings = SimpleNamespace(
        sla_immediate_minutes=10, sla_high_minutes=60, sla_normal_minutes=1440,
        admin_tokens=tokens,
    )  # fmt: skip
    app.state.runtime = SimpleNamespace(store=store, settings=settings)
    return app


@pytest.fixture
async def web(store):
    async with transaction(store.sessions) as session:
        await seed(session, store.vault, build_spec())
    province_token, e1 = issue_token("officer-66", DAK_LAK)
    national_token, e2 = issue_token("ministry-1", None)
    app = make_app(store, f"{e1},{e2}")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        client.app = app
        client.tokens = {"province": province_token, "national": national_token}
        client.store = store
        yield client


async def _actions(store) -> list[tuple[str, str | None]]:
    async with transaction(store.sessions) as session:
        rows = (await session.exec(AuditEvent.__table__.select())).all()
    return [(r.action, r.actor_id) for r in rows]


async def test_refused_without_a_valid_token(web) -> None:
    for headers in ({}, {"Authorization": "Bearer lt_not-a-token"}):
        r = await web.get("/admin/stats?from=2026-01-01&to=2026-12-31", headers=headers)
        assert r.status_code == 401
        assert "Đăng nhập" in r.text and "<svg" not in r.text
    r = await web.get("/admin/stats/export?format=csv", headers={"Authorization": "Bearer x"})
    assert r.status_code == 401 and "table,title" not in r.text
    r = await web.post("/admin/stats/sign-in", data={"token": "lt_wrong"})
    assert r.status_code == 401
    assert ("stats.sign_in_refused", None) in await _actions(web.store)
    assert not any(a.startswith("stats.viewed") for a, _ in await _actions(web.store))


async def test_province_officer_sees_their_province_with_charts(web) -> None:
    r = await web.post("/admin/stats/sign-in", data={"token": web.tokens["province"]})
    assert r.status_code == 303 and COOKIE in r.headers["set-cookie"]
    assert "httponly" in r.headers["set-cookie"].lower()
    assert "samesite=strict" in r.headers["set-cookie"].lower()
    # Asking for another province still shows theirs.
    r = await web.get("/admin/stats?from=2026-01-01&to=2026-12-31&province=52")
    assert r.status_code == 200
    html = r.text
    assert "Đắk Lắk" in html and "Gia Lai" not in html.split("<h1>")[1].split("</h1>")[0]
    assert html.count("<svg") == 4
    assert "<script" not in html.lower()
    assert not re.search(r"(src|href)=\"(https?:)?//", html)  # nothing external
    assert "default-src 'none'" in r.headers["content-security-policy"]
    assert r.headers["cache-control"] == "no-store"
    assert "Số tin báo theo xã" in html
    actions = await _actions(web.store)
    assert ("stats.signed_in", "officer-66") in actions
    assert ("stats.viewed", "officer-66") in actions
    r = await web.get("/admin/stats/export?format=json&from=2026-01-01&to=2026-12-31")
    assert r.status_code == 200 and r.json()["period"]["province"] == DAK_LAK
    assert ("stats.exported", "officer-66") in await _actions(web.store)
    r = await web.post("/admin/stats/sign-out")
    assert r.status_code == 303


async def test_national_view_by_bearer_token(web) -> None:
    headers = {"Authorization": f"Bearer {web.tokens['national']}"}
    r = await web.get("/admin/stats?from=2026-01-01&to=2026-12-31", headers=headers)
    assert r.status_code == 200 and "toàn quốc" in r.text
    assert "Số tin báo theo tỉnh" in r.text
    r = await web.get("/admin/stats?from=2026-13-01", headers=headers)
    assert r.status_code == 400
    r = await web.get("/admin/stats/export?format=xlsx&from=2026-01-01&to=2026-12-31",
                      headers=headers)  # fmt: skip
    assert r.status_code == 200 and r.content[:2] == b"PK"


def test_charts_never_draw_a_suppressed_value_to_scale() -> None:
    report = {
        "period": {"province": None},
        "tables": [{
            "id": "reports_by_province_month", "rows": [{"code": "66", "label": "Đắk Lắk"}],
            "columns": [{"code": "2026-01", "label": "Tháng 1/2026"},
                        {"code": "2026-02", "label": "Tháng 2/2026"}],
            "cells": [["x", "<5"]], "row_totals": [9], "col_totals": ["x", "<5"], "total": 9,
        }],
    }  # fmt: skip
    svg = render_charts(report)[0]
    assert svg.count('stroke-dasharray="3 2"') == 2 and "&lt;5" in svg


def test_charts_escape_labels_and_scale() -> None:
    from bot.admin.charts import bar_chart, grouped_hbar_chart

    svg = bar_chart("<b>t</b>", ["<script>", "b"], [10, 5])
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    heights = [float(h) for h in re.findall(r'<rect [^>]*height="([\d.]+)" fill=', svg)]
    assert heights[0] == pytest.approx(2 * heights[1])
    svg = grouped_hbar_chart("c", ["a"], [("s1", [50.0]), ("s2", ["x"])], unit="%", max_value=100)
    assert "50.0%" in svg and ">x</text>" in svg


async def test_the_cookie_is_a_server_side_session_that_ends(web) -> None:
    """Issue 23 finding 8: the cookie never holds the token; the session expires, ends at
    sign-out and when the officer's token is removed from the configuration."""
    from datetime import UTC, datetime

    from bot.admin import sessions

    token, page = web.tokens["province"], "/admin/stats?from=2026-01-01&to=2026-12-31"

    async def sign_in() -> str:
        r = await web.post("/admin/stats/sign-in", data={"token": token})
        session_id = web.cookies.get(COOKIE)
        web.cookies.clear()  # each request below names its cookie
        assert r.status_code == 303 and session_id and token not in r.headers["set-cookie"]
        return session_id

    async def status(session_id: str) -> int:
        return (await web.get(page, headers={"Cookie": f"{COOKIE}={session_id}"})).status_code

    signed_out = await sign_in()
    assert await status(signed_out) == 200
    await web.post("/admin/stats/sign-out", headers={"Cookie": f"{COOKIE}={signed_out}"})
    assert await status(signed_out) == 401  # the old cookie, replayed

    expiring = await sign_in()
    assert await status(expiring) == 200
    later = datetime.now(UTC) + sessions.SESSION_TTL * 1.1
    settings = web.app.state.runtime.settings
    registry = TokenRegistry.parse(settings.admin_tokens)
    assert await sessions.officer_of(web.store, registry, expiring, now=later) is None
    assert await status(expiring) == 401  # expired: shredded at its first use

    revoked = await sign_in()
    assert await status(revoked) == 200
    settings.admin_tokens = settings.admin_tokens.split(",")[1]  # the officer is removed
    assert await status(revoked) == 401


async def test_a_thousand_refused_sign_ins_write_one_audit_row(web) -> None:
    for n in range(1000):
        r = await web.post("/admin/stats/sign-in", data={"token": f"lt_guess-{n}"})
        assert r.status_code == 401
    async with transaction(web.store.sessions) as session:
        counts = (await session.exec(select(RefusalCount))).all()
    refused = [a for a, _ in await _actions(web.store) if a == "stats.sign_in_refused"]
    assert sum(c.count for c in counts) == 1000 and len(refused) == len(counts) <= 2
