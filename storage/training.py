"""Training of focal points and communication activities: what the plans report beside
the cases ("80% cán bộ … được tập huấn", communication sessions and their reach).

Entered on the web by province officers (``/admin/training``, ``/admin/communication``);
each entry is audited (officer, action, time). Nothing here concerns a survivor.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import audit
from storage.keyring import Keyring
from storage.models import CommunicationActivity, FocalPoint, TrainingRecord

# The kinds of activity the plans name (Vietnamese labels for the pages and exports).
ACTIVITY_KINDS: dict[str, str] = {
    "meeting": "Họp dân, sinh hoạt cộng đồng",
    "training": "Tập huấn, hội thảo",
    "loudspeaker": "Loa truyền thanh",
    "media": "Báo, đài, truyền hình",
    "online": "Mạng xã hội, trực tuyến",
    "print": "Tờ rơi, pa nô, áp phích",
    "event": "Sự kiện, mít tinh (Tháng hành động)",
    "school": "Truyền thông trong trường học",
}
MAX_COURSE = 120
MAX_REACH = 10_000_000


class RecordError(ValueError):
    """An entry that cannot be recorded (said to the officer as it is)."""


async def focal_points_of(session: AsyncSession, province: str | None) -> list[FocalPoint]:
    """The active focal points an officer may record training for (theirs, or all)."""
    query = select(FocalPoint).where(FocalPoint.active == True)  # noqa: E712 - SQL
    if province is not None:
        query = query.where(FocalPoint.province_code == province)
    return list((await session.exec(query.order_by(FocalPoint.id))).all())


async def record_training(
    session: AsyncSession,
    keyring: Keyring,
    *,
    officer_id: str,
    officer_province: str | None,
    focal_point_id: str,
    course: str,
    held_on: date,
    now: datetime,
) -> TrainingRecord:
    course = " ".join(course.split())
    if not course or len(course) > MAX_COURSE:
        raise RecordError(f"Tên khoá học: 1–{MAX_COURSE} ký tự.")
    if held_on > now.date():
        raise RecordError("Ngày tập huấn không thể ở tương lai.")
    focal = await session.get(FocalPoint, focal_point_id)
    if focal is None or (officer_province is not None and focal.province_code != officer_province):
        raise RecordError("Không có đầu mối này trong tỉnh của bạn.")
    row = TrainingRecord(
        focal_point_id=focal.id,
        province_code=focal.province_code,
        course=course,
        held_on=held_on,
        recorded_by=officer_id,
        recorded_at=now,
    )
    session.add(row)
    await audit.append(
        session, keyring, action="training.recorded", actor_role="province_officer",
        actor_id=officer_id, at=now,
    )  # fmt: skip
    return row


async def record_activity(
    session: AsyncSession,
    keyring: Keyring,
    *,
    officer_id: str,
    province: str,
    kind: str,
    held_on: date,
    reach: int,
    now: datetime,
    commune: str | None = None,
) -> CommunicationActivity:
    if kind not in ACTIVITY_KINDS:
        raise RecordError("Loại hoạt động không hợp lệ.")
    if not 0 <= reach <= MAX_REACH:
        raise RecordError("Số người được tiếp cận: từ 0.")
    if held_on > now.date():
        raise RecordError("Ngày hoạt động không thể ở tương lai.")
    row = CommunicationActivity(
        province_code=province,
        commune_code=commune,
        kind=kind,
        held_on=held_on,
        reach=reach,
        recorded_by=officer_id,
        recorded_at=now,
    )
    session.add(row)
    await audit.append(
        session, keyring, action="communication.recorded", actor_role="province_officer",
        actor_id=officer_id, at=now,
    )  # fmt: skip
    return row


async def training_of(session: AsyncSession, province: str | None) -> list[TrainingRecord]:
    query = select(TrainingRecord)
    if province is not None:
        query = query.where(TrainingRecord.province_code == province)
    return list((await session.exec(query.order_by(TrainingRecord.held_on.desc()))).all())


async def activities_of(session: AsyncSession, province: str | None) -> list[CommunicationActivity]:
    query = select(CommunicationActivity)
    if province is not None:
        query = query.where(CommunicationActivity.province_code == province)
    query = query.order_by(CommunicationActivity.held_on.desc())
    return list((await session.exec(query)).all())
