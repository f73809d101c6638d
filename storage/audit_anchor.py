"""The audit chain's keyed head, anchored beside the key file (issue 23).

The head row in the database catches the removal of the newest events, but a copy of an
older database (or an older head row with the newer events deleted) rolls both back
together. The anchor is the same keyed head written after each commit to a file beside
the key file, where a database copy cannot reach: ``hotline audit verify`` requires the
chain to still hold the newest anchored event. The file is only appended to (compacted to
its newest head now and then); ``hotline restore``, a deliberate roll-back, resets it.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from sqlalchemy import event

log = logging.getLogger(__name__)

SESSION_INFO = "audit_anchor"  # sessions' info: the anchor file their commits move on
_PENDING = "audit_anchor_pending"
_LISTENING = "audit_anchor_listening"


def anchor_path(key_file: Path) -> Path:
    key_file = Path(key_file)
    return key_file.with_name(key_file.name + ".audit-head")


# The file is append-only (one head a line: one write per commit, no rename), compacted
# to its newest head once it passes this size.
COMPACT_AT_BYTES = 1 << 20
_handles: dict[Path, int] = {}


def _seq(line: bytes) -> int:
    try:
        return int(json.loads(line)["seq"])
    except (ValueError, KeyError, TypeError):
        return -1  # a line cut short by a crash, or not ours


def read(path: Path) -> bytes | None:
    """The newest head the file records (several workers may append out of order)."""
    try:
        lines = path.read_bytes().splitlines()
    except FileNotFoundError:
        return None
    newest = max(lines, key=_seq, default=None)
    return newest if newest is not None and _seq(newest) >= 0 else None


def _replace(path: Path, value: bytes) -> None:
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(value + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _handle(path: Path) -> int:
    """An append handle on the file as it is now (another process may have compacted it)."""
    fd = _handles.get(path)
    if fd is not None:
        try:
            current = os.stat(path).st_ino
        except FileNotFoundError:
            current = None
        if current != os.fstat(fd).st_ino:
            os.close(fd)
            fd = None
    if fd is None:
        fd = _handles[path] = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    return fd


def release(path: Path) -> None:
    """Close this process's append handle on ``path`` (when its store closes)."""
    fd = _handles.pop(Path(path), None)
    if fd is not None:
        os.close(fd)


def write(path: Path, value: bytes, *, reset: bool = False) -> None:
    """Record a newer head (``reset``: make it the only one, after a restore)."""
    if reset:
        _replace(path, value)
        return
    fd = _handle(path)
    # One small O_APPEND write: whole lines even with several workers. No fsync: after a
    # power cut the newest line may be missing, and an older head is still a lower bound.
    os.write(fd, value + b"\n")
    if os.fstat(fd).st_size > COMPACT_AT_BYTES:
        _replace(path, read(path) or value)


def after_commit(session, value: bytes) -> None:
    """Move the anchor to ``value`` once ``session``'s transaction commits (not before: a
    rolled-back transaction's head never existed)."""
    sync = session.sync_session
    if sync.info.get(SESSION_INFO) is None:
        return
    sync.info[_PENDING] = value
    if sync.info.get(_LISTENING):
        return
    event.listen(sync, "after_commit", _write_pending)
    event.listen(sync, "after_rollback", _drop_pending)
    sync.info[_LISTENING] = True


def _write_pending(sync) -> None:
    value = sync.info.pop(_PENDING, None)
    if value is None:
        return
    try:
        write(Path(sync.info[SESSION_INFO]), value)
    except OSError as exc:  # the audited action stands; verify will say the anchor lags
        log.error("could not write the audit anchor (%s)", exc.__class__.__name__)


def _drop_pending(sync) -> None:
    sync.info.pop(_PENDING, None)
