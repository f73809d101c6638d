"""The audit chain's keyed head, anchored beside the key file (issue 23).

The head row in the database catches the removal of the newest events, but a copy of an
older database (or an older head row with the newer events deleted) rolls both back
together. The anchor is the same keyed head written after each commit to a file beside
the key file, where a database copy cannot reach: ``hotline audit verify`` requires the
chain to still hold the anchored event. The file only moves forward; ``hotline restore``,
a deliberate roll-back, resets it.
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


def read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _seq(value: bytes | None) -> int:
    try:
        return int(json.loads(value)["seq"]) if value else 0
    except (ValueError, KeyError, TypeError):
        return 0


def write(path: Path, value: bytes, *, forward_only: bool = True) -> None:
    """Replace the anchor atomically (mode 0600); by default never with an older head."""
    if forward_only and _seq(read(path)) >= _seq(value):
        return
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(value)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


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
