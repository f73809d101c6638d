"""The FastAPI application: the web chat and focal inbox, the Telegram and Zalo webhooks,
the statistics pages and health. The runtime (storage, senders, channels, jobs) starts
with it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI

from bot.admin.router import stats_router
from bot.health import health_router
from bot.runtime import Runtime
from bot.settings import Settings
from bot.telegram import webhook
from bot.web import Limits, attach_runtime, install_web
from bot.zalo import webhook as zalo_webhook


def create_app(
    settings: Settings,
    *,
    webhook_url: str | None = None,
    zalo_webhook_url: str | None = None,
    demo: bool = False,
    on_demo: Callable[[str, str], None] | None = None,
    limits: Limits | None = None,
) -> FastAPI:
    """Build the app. ``demo`` loads the fictitious Đắk Lắk directory at start-up and hands
    ``(focal_point_id, invite_code)`` to ``on_demo``."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = await Runtime.start(
            settings, webhook_url=webhook_url, zalo_webhook_url=zalo_webhook_url
        )
        app.state.runtime = runtime
        try:
            attach_runtime(runtime, app.state.web)
            if demo:
                from bot.web.app import load_demo

                focal_point_id, code = await load_demo(runtime)
                app.state.demo = (focal_point_id, code)
                if on_demo is not None:
                    on_demo(focal_point_id, code)
            yield
        finally:
            await runtime.stop()

    app = FastAPI(title="Lên Tiếng", lifespan=lifespan, docs_url=None, redoc_url=None)
    install_web(app, limits=limits)
    app.include_router(webhook.router)
    app.include_router(zalo_webhook.router)
    app.include_router(stats_router())
    app.include_router(health_router(settings.metrics))

    @app.get("/health")
    async def health() -> dict[str, str]:
        runtime: Runtime = app.state.runtime
        async with runtime.store.engine.connect():
            pass
        return {"status": "ok"}

    return app
