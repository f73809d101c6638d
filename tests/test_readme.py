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


def test_both_commands_install_from_the_locks():
    start, test = _readme_commands()
    assert "pip install -r requirements.txt " in start and "[dev]" not in start
    assert "pip install -r requirements-dev.txt " in test
    for command in (start, test):
        assert "pip install --no-deps -e ." in command


def test_ci_starts_the_hotline_with_readmes_first_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "start_command=$(readme_command 1)" in ci
    assert 'bash -c "$start_command"' in ci


def test_ci_runs_readmes_test_command_with_services_required():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    _, test = _readme_commands()
    assert test in ci.splitlines()
    assert "export HOTLINE_REQUIRE_SERVICES=1" in ci
