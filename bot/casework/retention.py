"""The retention round: warn before a closed case is deleted, delete the due ones."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.casework.common import (
    FOCAL_LANG,
)
from dialogs import focal_texts as T
from storage import (
    retention,
)
from storage.db import transaction
from storage.models import (
    FocalPoint,
)


class Retention:
    """Retention warnings and deletion."""

    async def retention_round(self, *, now: datetime) -> int:
        """Warn focal points 72 hours before a closed case is deleted; delete the due ones,
        and the unreferred cases untouched for the retention (:mod:`storage.retention`)."""
        async with transaction(self.store.sessions) as session:
            for case in await retention.due_for_warning(session, now):
                case.retention_warned_at = now
                session.add(case)
                focal = (
                    await session.get(FocalPoint, case.assigned_focal_point_id)
                    if case.assigned_focal_point_id
                    else None
                )
                if focal is not None:
                    when = f"{case.retain_until:%Y-%m-%d %H:%M} UTC"
                    await self._tell(
                        session,
                        focal,
                        T.text(FOCAL_LANG, "focal.retention", ref=case.ref, when=when),
                        now,
                    )
            deleted = await retention.purge_expired(
                session, self.store.vault, now, retention=self.retention
            )
        self._wake()
        return deleted

    async def retention_round_now(self) -> int:

        return await self.retention_round(now=datetime.now(UTC))
