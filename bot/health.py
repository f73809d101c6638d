"""``/healthz`` (the process answers), ``/readyz`` (it can do its work) and ``/metrics``.

Ready means: the database answers, its schema is at the code's newest migration, and the
outbox senders and the escalation job are running. Otherwise 503 with the reason, which
names a component, never content.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import text

from bot.metrics import CONTENT_TYPE_LATEST
from storage import gauges, migrate

DATABASE_TIMEOUT_S = 5.0


def _runtime(request: Request):
    return getattr(request.app.state, "runtime", None)


async def not_ready(runtime) -> str | None:
    """Why this worker cannot serve, or None."""
    if runtime is None:
        return "starting"
    try:
        async with asyncio.timeout(DATABASE_TIMEOUT_S):
            async with runtime.store.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            revision = await migrate.current_revision(runtime.store.engine)
    except Exception as exc:  # noqa: BLE001 - any failure: the database is not usable
        return f"database unreachable ({type(exc).__name__})"
    if revision != migrate.head_revision():
        return f"schema at {revision}, not {migrate.head_revision()}: run `hotline init`"
    stopped = [
        task.get_name()
        for task in runtime.tasks
        if task.get_name().startswith("sender:") and task.done()
    ]
    if stopped:
        return f"stopped: {', '.join(sorted(stopped))}"
    if runtime.escalations is None or not runtime.escalations.running:
        return "stopped: escalation job"
    return None


def health_router(metrics_enabled: bool) -> APIRouter:
    router = APIRouter()

    @router.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> JSONResponse:
        reason = await not_ready(_runtime(request))
        if reason is None:
            return JSONResponse({"status": "ready"})
        return JSONResponse({"status": "not ready", "reason": reason}, status_code=503)

    @router.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        runtime = _runtime(request)
        if not metrics_enabled or runtime is None:
            return Response(status_code=404)
        async with runtime.store.sessions() as session:
            figures = await gauges.read(session)
        body = runtime.metrics.render(figures, datetime.now(UTC))
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return router
