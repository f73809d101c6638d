"""A real hotline web app (``create_web_app``) served by uvicorn on a free loopback port,
in a background thread with its own event loop. Tests read the database through
:meth:`LiveServer.run`, which runs a coroutine on the server's loop."""

from __future__ import annotations

import asyncio
import socket
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import uvicorn

from bot.settings import Settings
from bot.web import Limits
from bot.web.app import create_web_app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, ready: threading.Event) -> None:
        super().__init__(config)
        self.ready = ready
        self.loop: asyncio.AbstractEventLoop | None = None

    def install_signal_handlers(self) -> None:  # not the main thread
        pass

    async def startup(self, sockets=None) -> None:
        self.loop = asyncio.get_running_loop()
        await super().startup(sockets)
        self.ready.set()


class LiveServer:
    def __init__(
        self, tmp: Path, *, demo: bool = True, limits: Limits | None = None, **settings: Any
    ) -> None:
        self.settings = Settings(
            database_url=f"sqlite+aiosqlite:///{tmp / 'hotline.db'}",
            key_file=tmp / "hotline.key",
            **settings,
        )
        self.demo: tuple[str, str] | None = None
        self.app = create_web_app(
            self.settings,
            demo=demo,
            limits=limits or Limits(10_000, 100_000, 10_000, 100_000, 1_000, 10_000),
            on_demo=lambda fp, code: setattr(self, "demo", (fp, code)),
        )
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            log_config=None,
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=2,  # pages' long polls would hold the shutdown
        )
        self._ready = threading.Event()
        self.server = _Server(config, self._ready)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        if not self._ready.wait(60) or not self.server.started:
            raise RuntimeError("the web app did not start")
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.should_exit = True
        self.thread.join(30)

    @property
    def runtime(self):
        return self.app.state.runtime

    def run(self, coro) -> Any:
        """Run a coroutine on the server's loop and return its result."""
        future: Future = asyncio.run_coroutine_threadsafe(coro, self.server.loop)
        return future.result(30)
