"""The deployment guide and the systemd unit it ships stay true."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UNIT = ROOT / "deploy" / "hotline.service"
INSTALLED = "/opt/hotline/.venv/bin/hotline"


def test_the_systemd_unit_verifies_without_a_warning(tmp_path):
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed here")
    hotline = Path(sys.executable).with_name("hotline")  # the unit names the installed one
    unit = UNIT.read_text(encoding="utf-8")
    assert f"ExecStart={INSTALLED} run" in unit
    copy = tmp_path / "hotline.service"
    copy.write_text(unit.replace(INSTALLED, str(hotline)), encoding="utf-8")
    done = subprocess.run([tool, "verify", str(copy)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stderr.strip() == "", done.stderr


def test_the_unit_runs_hardened_as_its_own_user_with_the_key_in_its_state_directory():
    settings = dict(
        re.findall(r"^(\w+)=(.*)$", UNIT.read_text(encoding="utf-8"), flags=re.MULTILINE)
    )
    assert settings["User"] == "hotline" and settings["ProtectSystem"] == "strict"
    assert settings["NoNewPrivileges"] == "yes" and settings["UMask"] == "0077"
    assert settings["StateDirectory"] == "hotline"
    assert settings["Environment"] == "HOTLINE_KEY_FILE=/var/lib/hotline/hotline.key"


def test_readme_links_the_guide_and_the_guide_covers_what_a_province_needs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "(docs/deploy.md)" in readme
    guide = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    for topic in ("PostgreSQL", "nginx", "deploy/hotline.service", "hotline.key",
                  "keyring.enc", "keys rotate", "Upgrading", "doctor", "--webhook"):  # fmt: skip
        assert topic in guide, topic
    for command in ("doctor", "backup", "restore"):
        assert f"`hotline {command}" in readme, command
