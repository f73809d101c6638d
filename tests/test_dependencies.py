"""Runtime code imports only runtime dependencies, and the locks pin what pyproject asks for."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _pins(lock: str) -> dict[str, str]:
    text = (ROOT / lock).read_text(encoding="utf-8")
    return {
        canonicalize_name(name): version
        for name, version in re.findall(r"^([A-Za-z0-9_.\-]+)==([^ \\;]+)", text, re.M)
    }


def test_runtime_imports_are_declared_runtime_dependencies():
    """deptry: an import under bot/, dialogs/, routing/ or storage/ that only the dev extra
    (or nothing) provides would fail on README's first command."""
    deptry = Path(sys.executable).with_name("deptry")
    result = subprocess.run(
        [str(deptry), "."], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "lock,requirements",
    [
        ("requirements.txt", PYPROJECT["dependencies"]),
        (
            "requirements-dev.txt",
            PYPROJECT["dependencies"] + PYPROJECT["optional-dependencies"]["dev"],
        ),
    ],
)
def test_lock_pins_every_declared_dependency_within_its_range(lock, requirements):
    """Refresh with the commands in README's "Dependencies" section when this fails."""
    pins = _pins(lock)
    for line in requirements:
        req = Requirement(line)
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is declared but not in {lock}"
        assert req.specifier.contains(pins[name], prereleases=True), (lock, line, pins[name])


def test_every_pin_carries_a_hash():
    for lock in ("requirements.txt", "requirements-dev.txt"):
        entries = re.split(r"\n(?=[A-Za-z0-9_.\-]+==)", (ROOT / lock).read_text(encoding="utf-8"))
        for entry in entries[1:]:
            assert "--hash=sha256:" in entry, entry.splitlines()[0]
