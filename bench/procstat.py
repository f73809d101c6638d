"""What the benches read off processes and the database server: CPU time and resident
memory from /proc, a free loopback port for a server they start, and a fresh PostgreSQL
database per run (a database holding sealed data refuses a new key, so every run needs its
own)."""

from __future__ import annotations

import contextlib
import os
import resource
import secrets
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path


def free_port() -> int:
    """A loopback port no one listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_s(pid: int | str = "self") -> float:
    """CPU time (user + system) of process ``pid`` so far (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def named_cpu_s(name: str) -> float:
    """CPU time so far of every process called ``name`` (e.g. a database server's)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == name:
                    total += cpu_s(entry.name)
            except OSError:  # it ended meanwhile
                continue
    return total


def own_cpu_s() -> float:
    """CPU time (user + system) of this process so far, finer than /proc's clock ticks."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def rss_mb(pid: int | str = "self") -> float:
    """Resident memory of process ``pid`` now (/proc/PID/status, VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@contextlib.contextmanager
def fresh_postgres(host: str, user: str, prefix: str) -> Iterator[str]:
    """A new PostgreSQL database for one run, dropped after; yields its URL."""
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
    server = ["-h", host, "-U", user]
    subprocess.run(["createdb", *server, name], check=True)
    try:
        yield f"postgresql://{user}@{host}/{name}"
    finally:
        subprocess.run(["dropdb", "--force", *server, name], check=False)
