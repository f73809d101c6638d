"""The import contracts in pyproject.toml hold: bot over storage over the pure core
(routing, dialogs) with no cycles, and the core free of database, network and web
libraries (issue #19)."""

from __future__ import annotations

import logging
from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)  # the contracts live in pyproject.toml
    # import-linter configures logging with dictConfig, which disables every logger that
    # exists already (SQLAlchemy's too): the tests after this one must still see their logs.
    loggers = [logging.root, *logging.root.manager.loggerDict.values()]
    kept = [(lg, lg.disabled, lg.level) for lg in loggers if isinstance(lg, logging.Logger)]
    handlers = list(logging.root.handlers)
    try:
        assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True) == 0
    finally:
        for logger, disabled, level in kept:
            logger.disabled, logger.level = disabled, level
        logging.root.handlers[:] = handlers
        logging.root.manager._clear_cache()
