"""Administration: statistics export (CLI), the yearly report, and ``/admin/stats``.

Wiring: ``bot/cli.py`` adds ``app.add_typer(stats_app, name="stats")``; ``bot/app.py``
adds ``app.include_router(stats_router())``.
"""

from bot.admin.export import stats_app
from bot.admin.router import stats_router

__all__ = ["stats_app", "stats_router"]
