"""The Dagster instance a CLI run records into, kept healthy across crashes.

- It is created once, under a file lock, so two first runs on a fresh DAGSTER_HOME cannot both
  create and stamp the SQLite storages (which left `alembic_version` with two heads).
- Every CLI run is tagged with its process (pid, host, process start), so a later start can tell a
  run whose process is gone (`kill -9`, OOM kill, reboot) from one still working. Such a run is marked
  failed, with the reason, and its pool slots (`duckdb_warehouse`) are released; otherwise the next run
  would wait for the slot forever.
- While a run waits for a pool slot, a watcher says who holds it, frees it if its holder dies, and lets
  Ctrl-C stop the wait (Dagster's in-process wait loop ignores SIGINT and SIGTERM).
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import select
import shutil
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path

import dagster as dg
from dagster._core.errors import DagsterExecutionInterruptedError as INTERRUPTED
from dagster._core.execution.plan.instance_concurrency_context import InstanceConcurrencyContext

PID_TAG = "tokencomp/pid"
HOST_TAG = "tokencomp/host"
PROC_START_TAG = "tokencomp/process_start"
FREED_TAG = "tokencomp/freed"
LIVE_STATUSES = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]
WAIT_NOTICE_SECONDS = 30.0
_INIT_LOCK = ".tokencomp-init.lock"


def open_instance() -> dg.DagsterInstance:
    """The persistent instance: $DAGSTER_HOME, or ./.dagster created with the packaged dagster.yaml.

    The first open creates the SQLite storages; a file lock makes concurrent first opens take turns.
    """
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        home = str(Path(".dagster").resolve())
        os.environ["DAGSTER_HOME"] = home
    root = Path(home)
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    with (root / _INIT_LOCK).open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            config = root / "dagster.yaml"
            if not config.exists():
                tmp = root / ".dagster.yaml.tmp"
                with files("pipelines").joinpath("dagster.yaml").open("rb") as src, tmp.open("wb") as dst:
                    shutil.copyfileobj(src, dst)
                os.replace(tmp, config)
            instance = dg.DagsterInstance.get()
            # touch every storage while still holding the lock, so each SQLite file is created exactly once
            instance.get_runs(limit=1)
            instance.event_log_storage.get_concurrency_keys()
            if instance.schedule_storage is not None:
                instance.schedule_storage.all_instigator_state()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return instance


# --- whose process is a run? -------------------------------------------------------------------------


def _process_start(pid: int) -> str | None:
    """A token that changes when `pid` is reused or the machine reboots (Linux /proc), or None if unknown."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return f"{boot}:{fields[19]}"  # field 22 of stat: start time in clock ticks since boot


def _alive(pid: int, start: str) -> bool:
    if Path("/proc").is_dir():
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return False
        if stat[stat.rindex(")") + 2 :].split()[0] in ("Z", "X"):  # killed, not yet reaped by its parent
            return False
        return not start or _process_start(pid) == start
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def process_tags() -> dict[str, str]:
    """Run tags naming this process, so a later start can tell whether the run's process is gone."""
    pid = os.getpid()
    return {PID_TAG: str(pid), HOST_TAG: socket.gethostname(), PROC_START_TAG: _process_start(pid) or ""}


def run_process_gone(run: dg.DagsterRun) -> bool:
    """Whether the process that ran `run` (a tagged CLI run on this host) no longer exists."""
    pid = run.tags.get(PID_TAG)
    if not pid or run.tags.get(HOST_TAG) != socket.gethostname():
        return False
    return not _alive(int(pid), run.tags.get(PROC_START_TAG, ""))


@dataclass(frozen=True)
class Freed:
    """A run found dead or finished while holding pool slots, and what was done about it."""

    run_id: str
    reason: str
    slots: tuple[str, ...]

    def line(self) -> str:
        """`freed run 1a2b3c4d: process 123 on host is gone …; released slot duckdb_warehouse`."""
        released = f"; released slot {', '.join(self.slots)}" if self.slots else ""
        return f"freed run {self.run_id[:8]}: {self.reason}{released}"


def _slots_by_run(instance: dg.DagsterInstance) -> dict[str, list[str]]:
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return {}
    held: dict[str, list[str]] = {}
    for pool in sorted(storage.get_concurrency_keys()):
        info = storage.get_concurrency_info(pool)
        for run_id in sorted(info.active_run_ids | info.pending_run_ids | info.assigned_run_ids):
            held.setdefault(run_id, []).append(pool)
    return held


def free_dead_runs(instance: dg.DagsterInstance, *, exclude: str | None = None) -> list[Freed]:
    """Mark runs whose process is gone as failed and release the pool slots of every run that has ended.

    A run is only judged by its own tags (pid, host, process start): a run of another host, or one
    without tags (launched by `dg dev`), is left to Dagster's run monitoring.
    """
    freed: list[Freed] = []
    held = _slots_by_run(instance)
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=LIVE_STATUSES)):
        if run.run_id == exclude or not run_process_gone(run):
            continue
        reason = (
            f"process {run.tags[PID_TAG]} on {run.tags[HOST_TAG]} is gone (killed, out of memory or rebooted); "
            f"marked failed at {now}"
        )
        instance.report_run_failed(run, message=f"tokencomp: {reason}")
        instance.add_run_tags(run.run_id, {FREED_TAG: reason})
        slots = held.pop(run.run_id, [])
        if slots:
            instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        freed.append(Freed(run.run_id, reason, tuple(slots)))
    for run_id, slots in held.items():
        run = instance.get_run_by_id(run_id)
        if run_id == exclude or (run is not None and not run.is_finished):
            continue
        status = run.status.value if run is not None else "deleted"
        reason = f"the run has ended ({status}) but still held a slot"
        instance.event_log_storage.free_concurrency_slots_for_run(run_id)
        freed.append(Freed(run_id, reason, tuple(slots)))
    return freed


def freed_reason(run: dg.DagsterRun) -> str:
    """Why tokencomp marked a run failed (empty if it did not)."""
    return run.tags.get(FREED_TAG, "")


# --- watching a run: pool waits and Ctrl-C ------------------------------------------------------------

CLAIM_CHECK_MAX_SLEEP = 1.0


def _interval_to_next_pending_claim_check(self: InstanceConcurrencyContext) -> float:
    """Seconds until the next claim check is due, at most CLAIM_CHECK_MAX_SLEEP (so Ctrl-C stays prompt)."""
    if not self._pending_claims:
        return 0.0
    now = time.time()
    return max(0.0, min(CLAIM_CHECK_MAX_SLEEP, *(ready_at - now for ready_at in self._pending_timeouts.values())))


# Dagster 1.13.27 returns min(0, …) here, so the in-process executor never sleeps while a step waits for a pool
# slot and spins a whole core (dagster-io/dagster#20367 proposed the fix and was closed unmerged). The CLI's
# runs wait with this corrected version; Dagster's own processes (dg dev, the daemon) are left as they are.
InstanceConcurrencyContext.interval_to_next_pending_claim_check = _interval_to_next_pending_claim_check  # type: ignore[method-assign]


def _raise_in_main_thread(exc: type[BaseException]) -> None:
    """Raise `exc` in the main thread at its next Python instruction (it is spinning in Dagster's wait loop)."""
    main = threading.main_thread().ident
    if main is not None:
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(main), ctypes.py_object(exc))


class RunWatch:
    """What the watcher saw while a run executed: whether SIGINT or SIGTERM arrived."""

    def __init__(self) -> None:
        self.interrupted = False


@contextmanager
def watch_run(
    instance: dg.DagsterInstance, run_id: str, say: Callable[[str], None], poll_seconds: float = 1.0
) -> Iterator[RunWatch]:
    """Watch run `run_id` while it executes in this process.

    - Ctrl-C / SIGTERM are noted from a signal wakeup fd, whoever handles them: Dagster turns them into a step
      failure, and DuckDB into "Query interrupted", so `interrupted` is how the caller knows to exit 130.
    - When a step waits for a pool slot: say who holds it (again every WAIT_NOTICE_SECONDS), free it if the
      holder's process died, and stop the wait on Ctrl-C (Dagster's in-process wait loop only notes the signal).
    - A Ctrl-C that lands inside a finalizer or weakref callback (SQLAlchemy's pool has some) is swallowed by
      Python and printed as "Exception ignored … Traceback": it is raised again in the main thread instead.
    """
    seen = RunWatch()
    previous_hook = sys.unraisablehook

    swallowed: list[type[BaseException]] = []

    def unraisable(info: sys.UnraisableHookArgs) -> None:
        # Ctrl-C is KeyboardInterrupt, or Dagster's DagsterExecutionInterruptedError while a step runs
        if info.exc_type is not None and issubclass(info.exc_type, (KeyboardInterrupt, INTERRUPTED)):
            swallowed.append(info.exc_type)  # raised from the watcher: raised here, it would be swallowed again
            return
        previous_hook(info)

    sys.unraisablehook = unraisable
    stop = threading.Event()
    reader, writer = socket.socketpair()
    writer.setblocking(False)
    try:
        previous = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    except ValueError:  # not the main thread: signals are not ours to watch
        previous = None

    def signalled() -> bool:
        if previous is None:
            return False
        while select.select([reader], [], [], 0)[0]:
            if set(reader.recv(64)) & {signal.SIGINT, signal.SIGTERM}:
                seen.interrupted = True
        return seen.interrupted

    def watch() -> None:
        told_at: float | None = None
        while not stop.wait(poll_seconds):
            if swallowed:
                _raise_in_main_thread(swallowed.pop())
            try:
                interrupted = signalled()
                waiting = [pool for pool, runs in _waiting_pools(instance).items() if run_id in runs]
                if not waiting:
                    told_at = None
                    continue
                if interrupted:
                    _raise_in_main_thread(KeyboardInterrupt)
                    return
                for f in free_dead_runs(instance, exclude=run_id):
                    say(f.line())
                if told_at is None or time.monotonic() - told_at >= WAIT_NOTICE_SECONDS:
                    say(_waiting_line(instance, waiting))
                    told_at = time.monotonic()
            except Exception as exc:  # the watcher must never take the run down
                say(f"run watcher stopped: {type(exc).__name__}: {exc}")
                return

    thread = threading.Thread(target=watch, name="tokencomp-run-watch", daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        stop.set()
        thread.join()
        signalled()
        if previous is not None:
            signal.set_wakeup_fd(previous)
        reader.close()
        writer.close()
        sys.unraisablehook = previous_hook


def _waiting_pools(instance: dg.DagsterInstance) -> dict[str, set[str]]:
    storage = instance.event_log_storage
    return {pool: storage.get_concurrency_info(pool).pending_run_ids for pool in storage.get_concurrency_keys()}


def _waiting_line(instance: dg.DagsterInstance, pools: list[str]) -> str:
    parts = []
    for pool in pools:
        holders = []
        for run_id in sorted(instance.event_log_storage.get_concurrency_info(pool).active_run_ids):
            run = instance.get_run_by_id(run_id)
            who = f"run {run_id[:8]}"
            if run is not None and run.tags.get(PID_TAG):
                who += f" (pid {run.tags[PID_TAG]} on {run.tags.get(HOST_TAG, '?')})"
            holders.append(who)
        parts.append(f"{pool} (held by {', '.join(holders) or 'nobody yet'})")
    return f"waiting for pool slot {'; '.join(parts)}; Ctrl-C stops"
