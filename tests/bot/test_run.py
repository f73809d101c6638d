"""README's first command: `hotline run` serves on localhost with nothing configured."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import httpx


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_run_is_ready_on_the_embedded_defaults(tmp_path):
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("HOTLINE_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = []
        for line in process.stderr:  # wait for uvicorn to say it is ready
            lines.append(line)
            if "Uvicorn running on" in line:  # bound: startup completes before the bind
                break
        else:
            raise AssertionError("hotline run exited early:\n" + "".join(lines))
        assert f"http://127.0.0.1:{port}/" in "".join(lines)
        response = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=10)
        assert response.status_code == 200 and response.json() == {"status": "ready"}
        assert (tmp_path / "hotline.db").stat().st_mode & 0o777 == 0o600
        assert (tmp_path / "hotline.key").stat().st_mode & 0o777 == 0o600
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_run_demo_serves_the_chat_page_and_prints_an_invite(tmp_path):
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("HOTLINE_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run", "--port", str(port), "--demo"],
        cwd=tmp_path,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = []
        for line in process.stderr:
            lines.append(line)
            if "Uvicorn running on" in line:  # bound: startup completes before the bind
                break
        else:
            raise AssertionError("hotline run --demo exited early:\n" + "".join(lines))
        printed = "".join(lines)
        assert "invite code" in printed and f"http://127.0.0.1:{port}/focal" in printed
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=10)
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert "Content-Security-Policy" in page.headers
        focal = httpx.get(f"http://127.0.0.1:{port}/focal", timeout=10)
        assert focal.status_code in (200, 401)
    finally:
        process.terminate()
        process.wait(timeout=30)
