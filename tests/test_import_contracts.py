"""The import contracts in pyproject.toml hold: bot over storage over the pure core
(routing, dialogs) with no cycles, and the core free of database, network and web
libraries (issue #19)."""

from __future__ import annotations

from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept(monkeypatch) -> None:
    monkeypatch.chdir(ROOT)  # the contracts live in pyproject.toml
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True) == 0
