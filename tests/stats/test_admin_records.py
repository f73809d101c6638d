"""``/admin/training`` and ``/admin/communication`` (issue 20): province officers record each
focal point's training (course, date) and communication activities (kind, date, reach);
same sign-in as ``/admin/stats``, their province only, every entry audited."""

from __future__ import annotations

from datetime import date

import httpx
import pytest
from sqlmodel import select

from bot.admin.records import records_router
from bot.admin.tokens import issue_token
from storage.db import transaction
from storage.models import AuditEvent, CommunicationActivity, FocalPoint, TrainingRecord
from storage.records import new_data_key
from tests.stats.helpers import DAK_LAK, GIA_LAI
from tests.stats.test_admin_web import make_app


@pytest.fixture
async def web(store):
    async with transaction(store.sessions) as session:
        key_id, _aead = await new_data_key(session, store.vault)
        for fid, province in (("fp-dl-1", DAK_LAK), ("fp-dl-2", DAK_LAK), ("fp-gl-1", GIA_LAI)):
            session.add(
                FocalPoint(id=fid, data_key_id=key_id, place_scheme="2025",
                           province_code=province, role="commune")
            )  # fmt: skip
    province_token, e1 = issue_token("officer-66", DAK_LAK)
    national_token, e2 = issue_token("ministry-1", None)
    app = make_app(store, f"{e1},{e2}")
    app.include_router(records_router())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        client.store = store
        client.province = {"Authorization": f"Bearer {province_token}"}
        client.national = {"Authorization": f"Bearer {national_token}"}
        yield client


async def _rows(store, model):
    async with transaction(store.sessions) as session:
        return list((await session.exec(select(model))).all())


async def _actions(store) -> list[tuple[str, str | None]]:
    return [(e.action, e.actor_id) for e in await _rows(store, AuditEvent)]


async def test_refused_without_a_valid_token(web) -> None:
    for path in ("/admin/training", "/admin/communication"):
        r = await web.get(path)
        assert r.status_code == 401 and "Đăng nhập" in r.text
        r = await web.post(path, data={"course": "x", "date": "2026-01-01", "reach": "5"})
        assert r.status_code == 401
    assert await _rows(web.store, TrainingRecord) == []
    assert await _rows(web.store, CommunicationActivity) == []


async def test_a_province_officer_records_training_of_their_focal_points_only(web) -> None:
    page = await web.get("/admin/training", headers=web.province)
    assert (
        page.status_code == 200 and "default-src 'none'" in page.headers["content-security-policy"]
    )
    assert "fp-dl-1" in page.text and "fp-gl-1" not in page.text
    assert "0/2" in page.text
    r = await web.post(
        "/admin/training", headers=web.province,
        data={"focal_point": "fp-dl-1", "course": "Tiếp nhận tin báo an toàn", "date": "2026-03-10"},
    )  # fmt: skip
    assert r.status_code == 303
    r = await web.post(
        "/admin/training", headers=web.province,
        data={"focal_point": "fp-gl-1", "course": "Khoá khác", "date": "2026-03-10"},
    )  # fmt: skip
    assert r.status_code == 400 and "tỉnh của bạn" in r.text  # another province's
    r = await web.post(
        "/admin/training", headers=web.province,
        data={"focal_point": "fp-dl-2", "course": "Khoá khác", "date": "2999-01-01"},
    )  # fmt: skip
    assert r.status_code == 400 and "tương lai" in r.text
    (row,) = await _rows(web.store, TrainingRecord)
    assert (row.focal_point_id, row.province_code, row.course, row.held_on) == (
        "fp-dl-1",
        DAK_LAK,
        "Tiếp nhận tin báo an toàn",
        date(2026, 3, 10),
    )
    assert row.recorded_by == "officer-66"
    page = await web.get("/admin/training", headers=web.province)
    assert "1/2" in page.text and "Tiếp nhận tin báo an toàn" in page.text
    assert ("training.recorded", "officer-66") in await _actions(web.store)


async def test_communication_activities_with_kind_date_and_reach(web) -> None:
    r = await web.post(
        "/admin/communication", headers=web.province,
        data={"kind": "meeting", "date": "2026-11-20", "reach": "120", "province": GIA_LAI},
    )  # fmt: skip
    assert r.status_code == 303
    r = await web.post(
        "/admin/communication", headers=web.province,
        data={"kind": "meeting", "date": "2026-11-20", "reach": "-3"},
    )  # fmt: skip
    assert r.status_code == 400
    r = await web.post(
        "/admin/communication", headers=web.province,
        data={"kind": "rumours", "date": "2026-11-20", "reach": "3"},
    )  # fmt: skip
    assert r.status_code == 400
    # a national officer names the province
    r = await web.post(
        "/admin/communication", headers=web.national,
        data={"kind": "event", "date": "2026-11-25", "reach": "800", "province": GIA_LAI},
    )  # fmt: skip
    assert r.status_code == 303
    rows = sorted(await _rows(web.store, CommunicationActivity), key=lambda r: r.id)
    # the province officer's entry is theirs, whatever province the form said
    assert [(r.province_code, r.kind, r.held_on, r.reach, r.recorded_by) for r in rows] == [
        (DAK_LAK, "meeting", date(2026, 11, 20), 120, "officer-66"),
        (GIA_LAI, "event", date(2026, 11, 25), 800, "ministry-1"),
    ]
    page = await web.get("/admin/communication", headers=web.province)
    assert "Số hoạt động: 1; số người được tiếp cận: 120." in page.text
    page = await web.get("/admin/communication", headers=web.national)
    assert "Số hoạt động: 2; số người được tiếp cận: 920." in page.text
    actions = await _actions(web.store)
    assert ("communication.recorded", "officer-66") in actions
    assert ("communication.recorded", "ministry-1") in actions
