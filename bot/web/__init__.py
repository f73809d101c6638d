"""The web channel: the survivor chat at ``/`` (with voice messages, :mod:`bot.web.voice`)
and the focal point inbox at ``/focal``.

Wiring (in :func:`bot.app.create_app`)::

    from bot.web import install_web
    install_web(app)                     # routes, security headers, per-process state

and, in the lifespan once the runtime started::

    from bot.web import attach_runtime
    attach_runtime(app.state.runtime, app.state.web)   # renderer, turn groups, wake-ups
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI

from bot.web.chat import WebState, attach_runtime
from bot.web.render import CHANNEL, WebRenderer
from bot.web.security import Limits, SecurityHeadersASGI

__all__ = ["CHANNEL", "Limits", "WebRenderer", "WebState", "attach_runtime", "install_web"]


def install_web(
    app: FastAPI, *, limits: Limits | None = None, session_ttl: timedelta | None = None
) -> WebState:
    """Add the web chat and focal inbox routes and the security headers to ``app``."""
    from bot.web import assets, chat, prompt_audio, translate, voice

    state = WebState(limits, session_ttl)
    app.state.web = state
    app.include_router(assets.router)
    app.include_router(chat.router)
    app.include_router(voice.router)
    app.include_router(prompt_audio.router)
    app.include_router(translate.router)  # the translators' workshop, /translate
    try:
        from bot.web import focal
    except ImportError:  # the focal desk is not there yet
        focal = None
    if focal is not None:
        from bot.web import directory, province

        app.include_router(directory.router)  # its own prefix, before /focal's routes
        app.include_router(province.router)  # before /focal's own routes: a longer prefix
        app.include_router(focal.router)
    app.add_middleware(SecurityHeadersASGI)
    return state
