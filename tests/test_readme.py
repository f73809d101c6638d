"""README's two opening commands stay true, and CI runs exactly README's test command."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```sh\n(.+?)\n```", text)[:2]


def test_readme_opens_with_a_start_and_a_test_command():
    start, test = _readme_commands()
    assert start.endswith("hotline run")
    assert "pytest" in test


def test_ci_runs_readmes_test_command_with_services_required():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    _, test = _readme_commands()
    assert test in ci.splitlines()
    assert "export HOTLINE_REQUIRE_SERVICES=1" in ci
