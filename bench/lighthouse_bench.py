"""The web chat on a cheap phone (issue 24): Lighthouse's scores, and the first usable screen
on a slow 3G line with a 4× slower CPU.

It starts the hotline as README's first command does (``hotline run``, embedded SQLite and a
generated key, in a scratch folder), then:

1. runs npm ``lighthouse`` (mobile preset, its simulated throttling) against Debian's
   Chromium and prints the performance, accessibility and best-practices scores, FCP, TBT,
   CLS and the bytes transferred; then the accessibility of the normal page and of simple
   mode (``/?simple=1``), each with the audits it fails;
2. opens the page ``--visits`` times as a first visit (a new browser context: no cache, no
   session) through Chromium's own throttling (400 ms round trip, 400 kbit/s each way, CPU
   4× slower) and prints the median and worst time from navigation to the first usable
   screen: its choices shown and the script wired, so a tap is answered (one made before the
   session exists waits for it); the emergency numbers are links even before that.

Goals: performance ≥ 98, accessibility 100 (≥ 95 in simple mode, issue 21), best practices
100; first usable ≤ 1.5 s.

Lighthouse is not a Python package: install it outside the repository, for instance
``npm install --prefix /work/tools/lighthouse lighthouse``, and pass ``--lighthouse``.

Run: ``python bench/lighthouse_bench.py [--lighthouse PATH] [--visits 5]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
SIMPLE = "?simple=1"  # the web chat's simple mode (one question a screen, pictures, audio)
RTT_MS = 400
KBIT_S = 400
CPU_SLOWDOWN = 4
# The first screen's choices are shown and the script answers a tap (chat.js marks the moment
# it has wired them; a tap before the session exists waits for it and is then answered).
USABLE = """() => {
  const live = performance.getEntriesByName('chat-live')[0];
  return live && document.querySelector('#log .msg.bot button[data-choice]') ? live.startTime : 0;
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_hotline(folder: Path) -> tuple[subprocess.Popen, str]:
    """``hotline run`` on a free port, a scratch database and a generated key."""
    port = free_port()
    env = dict(
        os.environ,
        HOTLINE_PORT=str(port),
        HOTLINE_DATABASE_URL=f"sqlite+aiosqlite:///{folder / 'hotline.db'}",
        HOTLINE_KEY_FILE=str(folder / "hotline.key"),
    )
    hotline = shutil.which("hotline") or str(Path(sys.executable).with_name("hotline"))
    log = (folder / "run.log").open("wb")
    process = subprocess.Popen([hotline, "run"], env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return process, url
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.2)  # waiting for a server to listen, not synchronising a test
    process.kill()
    raise SystemExit("the hotline did not start:\n" + (folder / "run.log").read_text()[-2000:])


def lighthouse(binary: str, url: str, folder: Path) -> dict:
    report = folder / f"lighthouse-{len(list(folder.glob('lighthouse-*.json')))}.json"
    subprocess.run(
        [
            binary,
            url,
            "--quiet",
            "--output=json",
            f"--output-path={report}",
            "--only-categories=performance,accessibility,best-practices",
            "--chrome-flags=--headless=new --no-sandbox",
        ],
        check=True,
        env=dict(os.environ, CHROME_PATH=CHROMIUM),
    )
    return json.loads(report.read_text())


def _accessibility(report: dict, page: str) -> None:
    """The page's accessibility score, and each audit it fails (what to fix)."""
    category = report["categories"]["accessibility"]
    print(f"  {page}: accessibility {round(category['score'] * 100)} (goal >= 95)")
    for ref in category["auditRefs"]:
        audit = report["audits"][ref["id"]]
        if ref["weight"] and audit["score"] is not None and audit["score"] < 1:
            print(f"    fails {ref['id']}: {audit['title']}")


def first_usable(url: str, visits: int) -> list[float]:
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        for _ in range(visits):
            context = browser.new_context(
                viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
            )
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send(
                "Network.emulateNetworkConditions",
                {
                    "offline": False,
                    "latency": RTT_MS,
                    "downloadThroughput": KBIT_S * 1000 / 8,
                    "uploadThroughput": KBIT_S * 1000 / 8,
                },
            )
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
            page.goto(url, wait_until="commit")
            handle = page.wait_for_function(USABLE, polling="raf", timeout=30_000)
            times.append(handle.json_value() / 1000)
            context.close()
        browser.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--lighthouse",
        default=shutil.which("lighthouse") or "/work/tools/lighthouse/node_modules/.bin/lighthouse",
        help="the npm lighthouse command",
    )
    parser.add_argument("--visits", type=int, default=5, help="first visits on slow 3G")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        process, url = start_hotline(folder)
        try:
            report = lighthouse(args.lighthouse, url, folder)
            simple = lighthouse(args.lighthouse, url + SIMPLE, folder)
            usable = first_usable(url, args.visits)
        finally:
            process.terminate()
            process.wait(30)

    scores = {name: round(c["score"] * 100) for name, c in report["categories"].items()}
    audits = report["audits"]
    print(f"Lighthouse {report['lighthouseVersion']}, mobile preset, {url}")
    print(
        f"  performance {scores['performance']} (goal >= 98), "
        f"accessibility {scores['accessibility']} (goal 100), "
        f"best practices {scores['best-practices']} (goal 100)"
    )
    print(
        f"  FCP {audits['first-contentful-paint']['numericValue'] / 1000:.2f} s, "
        f"TBT {audits['total-blocking-time']['numericValue']:.0f} ms, "
        f"CLS {audits['cumulative-layout-shift']['numericValue']:.3f}, "
        f"{audits['total-byte-weight']['numericValue'] / 1024:.1f} KiB transferred"
    )
    _accessibility(report, "normal page")
    _accessibility(simple, f"simple mode ({SIMPLE})")
    print(
        f"first usable screen, {len(usable)} first visits at {RTT_MS} ms RTT, {KBIT_S} kbit/s, "
        f"CPU {CPU_SLOWDOWN}x slower: median {statistics.median(usable):.2f} s, "
        f"worst {max(usable):.2f} s (goal <= 1.5 s); " + ", ".join(f"{t:.2f}" for t in usable)
    )


if __name__ == "__main__":
    main()
