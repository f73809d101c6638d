"""The FastAPI application: health, the Telegram webhook; web chat and admin plug in here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from bot.admin.router import stats_router
from bot.runtime import Runtime
from bot.settings import Settings
from bot.telegram import webhook
from bot.zalo import webhook as zalo_webhook


def create_app(
    settings: Settings, *, webhook_url: str | None = None, zalo_webhook_url: str | None = None
) -> FastAPI:
    """Build the app; the runtime (storage, senders, Telegram, jobs) starts with it."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.runtime = await Runtime.start(
            settings, webhook_url=webhook_url, zalo_webhook_url=zalo_webhook_url
        )
        try:
            yield
        finally:
            await app.state.runtime.stop()

    app = FastAPI(title="Lên Tiếng", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.include_router(webhook.router)
    app.include_router(zalo_webhook.router)
    app.include_router(stats_router())

    @app.get("/health")
    async def health() -> dict[str, str]:
        runtime: Runtime = app.state.runtime
        async with runtime.store.engine.connect():
            pass
        return {"status": "ok"}

    return app
