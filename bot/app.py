"""The FastAPI application: health now; web chat, webhook and admin routes plug in here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from bot.settings import Settings
from storage.store import Store, open_store


def create_app(settings: Settings) -> FastAPI:
    """Build the app; storage is opened (migrated, keys checked) when it starts."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = await open_store(settings.database_url, settings.key_source())
        app.state.store = store
        try:
            yield
        finally:
            await store.close()

    app = FastAPI(title="Lên Tiếng", lifespan=lifespan, docs_url=None, redoc_url=None)

    @app.get("/health")
    async def health() -> dict[str, str]:
        store: Store = app.state.store
        async with store.engine.connect():
            pass
        return {"status": "ok"}

    return app
