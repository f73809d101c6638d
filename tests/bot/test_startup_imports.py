"""What a worker loads to serve: the libraries of commands and channels it may not use stay
unloaded, since each one stays in its memory for as long as it runs.

Checked in a fresh interpreter: the test process has imported everything by now.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# openpyxl: the spreadsheet export (a command); alembic and mako: changing the schema;
# httpx: the Zalo client, loaded when Zalo is started.
NOT_AT_START = ("openpyxl", "alembic", "mako", "httpx")


def test_the_command_line_and_the_web_app_load_none_of_the_optional_libraries():
    code = (
        "import json, sys\n"
        "import bot.app, bot.cli, bot.runtime\n"
        f"print(json.dumps(sorted(m for m in {NOT_AT_START!r} if m in sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
