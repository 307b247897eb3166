"""One writer at a time: the data-dir lock every writing command holds, and owner-only file permissions.

The lock is an `fcntl.flock` on `<data dir>/.tokencomp.lock`. The kernel drops it when its process ends,
however it ends (Ctrl-C, `kill -9`, an OOM kill, a reboot), so a dead holder can never block the next run.
The file also says who holds it (pid, host, command, since) for `tokencomp status` and for a waiting run.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

LOCK_NAME = ".tokencomp.lock"
PRIVATE_UMASK = 0o077  # files 0600, folders 0700: the data dir holds names, emails and pay
WAIT_NOTICE_SECONDS = 30.0
_POLL_SECONDS = 0.2
_held: dict[Path, int] = {}  # lock path -> nesting depth in this process (the lock is re-entrant per process)


def private_files() -> None:
    """Make every file and folder this process creates owner-only (umask 077); idempotent."""
    os.umask(PRIVATE_UMASK)


def private_dir(path: Path) -> Path:
    """Create `path` (and parents) owner-only, and tighten it to 0700 if an older version made it 0755."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)
    return path


@dataclass(frozen=True)
class Holder:
    """Who holds the data-dir lock: process id, host, the command it runs, and since when (UTC)."""

    pid: int
    host: str
    command: str
    since: str

    def describe(self) -> str:
        """`pid 123 on host (tokencomp run, since 2026-03-10 06:00:00 UTC)`."""
        return f"pid {self.pid} on {self.host} ({self.command}, since {self.since})"


def _read_holder(fh: TextIO) -> Holder | None:
    try:
        fh.seek(0)
        data = json.loads(fh.read() or "null")
        return Holder(int(data["pid"]), str(data["host"]), str(data["command"]), str(data["since"]))
    except (ValueError, TypeError, KeyError):
        return None


def lock_holder(data_dir: Path) -> Holder | None:
    """The live holder of the data-dir lock, or None when no process holds it."""
    path = data_dir / LOCK_NAME
    if path.resolve() in _held:
        return Holder(os.getpid(), socket.gethostname(), "this process", "")
    try:
        fh = path.open("r", encoding="utf-8")
    except FileNotFoundError:
        return None
    with fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_holder(fh) or Holder(0, "?", "unknown", "?")
        fcntl.flock(fh, fcntl.LOCK_UN)
        return None


@contextmanager
def data_dir_lock(data_dir: Path, command: str, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the exclusive data-dir lock for `command`; wait for another holder, saying so, never fail on it.

    Re-entrant within a process (a `tokencomp run` holds it while its Dagster steps run in the same process).
    Waiting can be interrupted with Ctrl-C.
    """
    private_dir(data_dir)
    path = (data_dir / LOCK_NAME).resolve()
    if path in _held:
        _held[path] += 1
        try:
            yield
        finally:
            _held[path] -= 1
        return
    fh = path.open("a+", encoding="utf-8")
    try:
        _acquire(fh, command, on_wait)
        fh.seek(0)
        fh.truncate()
        since = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        fh.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "command": command, "since": since}))
        fh.flush()
        _held[path] = 1
        try:
            yield
        finally:
            del _held[path]
            fh.seek(0)
            fh.truncate()
            fcntl.flock(fh, fcntl.LOCK_UN)
    finally:
        fh.close()


def _acquire(fh: TextIO, command: str, on_wait: Callable[[str], None] | None) -> None:
    told_at: float | None = None
    while True:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        now = time.monotonic()
        if on_wait is not None and (told_at is None or now - told_at >= WAIT_NOTICE_SECONDS):
            holder = _read_holder(fh)
            who = holder.describe() if holder else "another process"
            waited = "" if told_at is None else " still"
            on_wait(f"{command}:{waited} waiting for the data dir, held by {who}")
            told_at = now
        time.sleep(_POLL_SECONDS)
