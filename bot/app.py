"""The FastAPI application: the web chat and focal inbox, the Telegram and Zalo webhooks,
the statistics pages and health. The runtime (storage, senders, channels, jobs) starts
with it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig

from bot.admin.records import records_router
from bot.admin.router import stats_router
from bot.body_limit import BodyLimitASGI
from bot.health import health_router
from bot.hot_posts import install_hot_posts
from bot.runtime import Runtime
from bot.settings import Settings
from bot.web import Limits, attach_runtime, install_web

# FastAPI's own OpenTelemetry, switched off whole: once an environment configures a provider
# (FASTAPI_OTEL_AUTO_CONFIGURE alone is enough), it would send each request's path, query,
# host and any exception's text to an exporter outside the hotline. The hotline counts on
# its own /metrics. Off, a request also skips asking the global providers about themselves.
NO_TELEMETRY: TelemetryConfig = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
    "auto_configure": False,
}


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

    # The API schema maps the attack surface: served only when debugging.
    app = FastAPI(
        title="Lên Tiếng",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.debug else None,
        telemetry=NO_TELEMETRY,
    )
    install_hot_posts(app)  # inside the body limit
    app.add_middleware(BodyLimitASGI)  # inside the security headers, which wrap its 413
    install_web(app, limits=limits)
    app.include_router(stats_router())
    app.include_router(records_router())
    app.include_router(health_router(settings.metrics))
    return app


def server_config(app: FastAPI, settings: Settings, *, host: str, port: int) -> uvicorn.Config:
    """How uvicorn serves the app, in production and in the tests alike.

    No access log: it would record every caller's IP address. Forwarded headers are believed
    only from ``HOTLINE_TRUSTED_PROXIES``: uvicorn's default believes loopback, so any local
    caller could pick the address the rate limits count. Open long polls of the web chat
    would hold up a shutdown: they get 5 seconds.
    """
    proxies = [p.strip() for p in settings.trusted_proxies.split(",") if p.strip()]
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        lifespan="on",
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or [],
        timeout_graceful_shutdown=5,
    )
