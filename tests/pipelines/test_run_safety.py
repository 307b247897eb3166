"""Crash safety of runs: killed runs free their pool slot, waits say so and stop on Ctrl-C (exit 130), two first
runs share one Dagster instance, two runs on one data dir take turns. Real subprocesses, real signals."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import pytest

from pipelines.cli import main
from tests.conftest import SAMPLES

REPO = Path(__file__).resolve().parents[2]
DAY = "2025-08-01"  # the day the Anthropic and OpenAI samples cover
TIMEOUT = 180  # seconds; only reached when a run hangs, which is the defect under test


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "TOKENCOMP_CONFIG"}
    return {**env, "DAGSTER_HOME": str(home), "PYTHONPATH": str(REPO), "COLUMNS": "200"}


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "pipelines.cli", *args]


def _wait_for(what: str, ready: Callable[[], bool], timeout: float = 60.0) -> None:
    """Poll until `ready()`, giving up after about `timeout` seconds of sleeps (a bound, never a measurement)."""
    for _ in range(int(timeout / 0.05)):
        if ready():
            return
        time.sleep(0.05)
    if not ready():
        raise AssertionError(f"waited about {timeout:.0f} s for {what}")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / ".dagster"))
    return tmp_path / ".dagster"


@pytest.fixture
def holder(tmp_path: Path, home: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A live process holding the duckdb_warehouse slot, as a CLI run in its warehouse build does."""
    marker = tmp_path / "holding"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.pipelines.slot_holder", str(marker)],
        cwd=tmp_path,
        env=_env(home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for("the holder to claim the slot", marker.exists)
        yield proc
    finally:
        proc.kill()
        proc.wait()


def _instance(home: Path) -> dg.DagsterInstance:
    return dg.DagsterInstance.from_config(str(home))


def _slot_holders(home: Path) -> set[str]:
    with _instance(home) as inst:
        return inst.event_log_storage.get_concurrency_info("duckdb_warehouse").active_run_ids


def test_a_run_killed_in_the_build_is_failed_and_its_slot_freed_so_the_next_run_completes(
    tmp_path: Path, home: Path, holder: subprocess.Popen[bytes]
) -> None:
    (stuck,) = _slot_holders(home)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    with _instance(home) as inst:
        assert inst.get_run_by_id(stuck).status == dg.DagsterRunStatus.STARTED  # what used to block every run

    done = subprocess.run(
        _cli("--data-dir", "data", "run", "--date", DAY),
        cwd=tmp_path,
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert done.returncode == 0, done.stderr
    gone = f"process {holder.pid} on {socket.gethostname()} is gone (killed, out of memory or rebooted)"
    assert f"freed run {stuck[:8]}: {gone}" in done.stderr
    assert "released slot duckdb_warehouse" in done.stderr
    with _instance(home) as inst:
        assert inst.get_run_by_id(stuck).status == dg.DagsterRunStatus.FAILURE
        runs = inst.get_runs(limit=3)  # `tokencomp run` is a pull run, then the build
        assert [(r.job_name, r.status) for r in runs] == [
            ("nightly", dg.DagsterRunStatus.SUCCESS),
            ("pull", dg.DagsterRunStatus.SUCCESS),
            ("nightly", dg.DagsterRunStatus.FAILURE),
        ]
    assert _slot_holders(home) == set()

    status = subprocess.run(
        _cli("--data-dir", "data", "status"), cwd=tmp_path, env=_env(home), capture_output=True, text=True
    )
    assert status.returncode == 0, status.stderr
    row = next(line for line in status.stdout.splitlines() if stuck[:8] in line)
    assert "FAILURE" in row and gone in row


def test_a_run_waiting_for_the_slot_says_so_and_ctrl_c_stops_it_with_exit_130(
    tmp_path: Path, home: Path, holder: subprocess.Popen[bytes]
) -> None:
    (busy,) = _slot_holders(home)
    log = tmp_path / "run.err"
    with log.open("w") as fh:
        run = subprocess.Popen(
            _cli("--data-dir", "data", "run", "--date", DAY), cwd=tmp_path, env=_env(home), stderr=fh, text=True
        )
    try:
        _wait_for("the run to say it waits", lambda: "waiting for pool slot" in log.read_text(), TIMEOUT)
        run.send_signal(signal.SIGINT)
        assert run.wait(timeout=60) == 130
    finally:
        run.kill()
    lines = log.read_text().splitlines()
    waiting = next(line for line in lines if "waiting for pool slot" in line)  # after the run's progress lines
    assert f"waiting for pool slot duckdb_warehouse (held by run {busy[:8]} (pid {holder.pid} on " in waiting
    assert lines[-1] == "tokencomp: interrupted; nothing was half-published (a warehouse is only ever replaced whole)"
    with _instance(home) as inst:
        mine = inst.get_runs(limit=1)[0]
        assert mine.run_id != busy and mine.status == dg.DagsterRunStatus.FAILURE
        info = inst.event_log_storage.get_concurrency_info("duckdb_warehouse")
        assert info.active_run_ids == {busy} and info.pending_run_ids == set()
    assert not (tmp_path / "data" / "warehouse.duckdb").exists()


@pytest.mark.slow
def test_a_waiting_run_takes_the_slot_when_its_holder_dies(
    tmp_path: Path, home: Path, holder: subprocess.Popen[bytes]
) -> None:
    (busy,) = _slot_holders(home)
    log = tmp_path / "run.err"
    with log.open("w") as fh:
        run = subprocess.Popen(
            _cli("--data-dir", "data", "run", "--date", DAY), cwd=tmp_path, env=_env(home), stderr=fh, text=True
        )
    try:
        _wait_for("the run to say it waits", lambda: "waiting for pool slot" in log.read_text(), TIMEOUT)
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        assert run.wait(timeout=TIMEOUT) == 0, log.read_text()
    finally:
        run.kill()
    assert f"freed run {busy[:8]}: process {holder.pid} on" in log.read_text()
    assert (tmp_path / "data" / "warehouse.duckdb").exists()


def _step_started(home: Path, step: str) -> bool:
    if not (home / "storage").exists():
        return False
    with _instance(home) as inst:
        runs = inst.get_runs(limit=1)
        return bool(runs) and any(
            e.step_key == step for e in inst.all_logs(runs[0].run_id, of_type=dg.DagsterEventType.STEP_START)
        )


def test_ctrl_c_during_a_run_exits_130_with_one_line_and_publishes_nothing(tmp_path: Path, home: Path) -> None:
    for source, name in (
        ("anthropic_usage", "anthropic_usage_report_messages_example.json"),
        ("anthropic_cost", "anthropic_cost_report_example.json"),
    ):
        (tmp_path / "data" / "landing" / source).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SAMPLES / name, tmp_path / "data" / "landing" / source / name)
    run = subprocess.Popen(
        _cli("--data-dir", "data", "run", "--date", DAY),
        cwd=tmp_path,
        env=_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for("the lake step", lambda: _step_started(home, "lake__usage"), TIMEOUT)
        run.send_signal(signal.SIGINT)
        _, err = run.communicate(timeout=TIMEOUT)
    finally:
        run.kill()
    assert run.returncode == 130, err
    # progress lines first, then exactly one reason line, and no traceback
    assert err.splitlines()[-1] == (
        "tokencomp: interrupted; nothing was half-published (a warehouse is only ever replaced whole)"
    )
    assert [line for line in err.splitlines() if line.startswith("tokencomp:")] == [err.splitlines()[-1]]
    assert "Traceback" not in err
    assert not (tmp_path / "data" / "warehouse.duckdb").exists()
    with _instance(home) as inst:
        assert inst.get_runs(limit=1)[0].status == dg.DagsterRunStatus.FAILURE


# A first run, cut to what touches the instance: open it (pipelines.runner.dagster_instance) and record a run
# that claims the duckdb_warehouse pool, as the nightly job does.
_FIRST_RUN = """
import sys, time
from pathlib import Path
import dagster as dg
from pipelines.runner import dagster_instance

@dg.asset(key=["core", "fct_spend"], pool="duckdb_warehouse")
def build() -> None:
    pass

job = dg.Definitions(assets=[build], jobs=[dg.define_asset_job("nightly")]).resolve_job_def("nightly")
Path(sys.argv[2]).touch()
while not Path(sys.argv[1]).exists():
    time.sleep(0.001)
sys.exit(0 if job.execute_in_process(instance=dagster_instance()).success else 1)
"""


def test_first_runs_at_once_on_a_fresh_dagster_home_initialise_it_once(tmp_path: Path, home: Path) -> None:
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _FIRST_RUN, str(go), str(tmp_path / f"ready{i}")],
            cwd=tmp_path,
            env=_env(home),
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(4)
    ]
    # all four imported and waiting: released together, they open the instance within milliseconds of each other
    _wait_for("the runs to be ready", lambda: all((tmp_path / f"ready{i}").exists() for i in range(4)), TIMEOUT)
    go.touch()
    for p in procs:
        _, err = p.communicate(timeout=TIMEOUT)
        assert p.returncode == 0, err
    for db in ("runs.db", "schedules/schedules.db", "index.db"):
        path = next(home.rglob(Path(db).name))
        with sqlite3.connect(path) as con:
            assert len(con.execute("select version_num from alembic_version").fetchall()) == 1, db
    with _instance(home) as inst:
        assert len(inst.get_runs()) == 4


def test_two_runs_on_one_data_dir_take_turns_and_both_succeed(tmp_path: Path, home: Path) -> None:
    from pipelines.config import load_settings
    from pipelines.services.ingest import read_manifest

    settings = load_settings(data_dir=tmp_path / "data")
    dropped = 0
    for name in sorted(p.name for p in SAMPLES.glob("*.json")):
        sources = ("anthropic_usage", "anthropic_cost", "anthropic_claude_code", "openai_usage", "openai_costs")
        source = next((s for s in sources if s in name), None)
        if source is None:  # the providers' key and user lists are reference data, not a source's pages
            continue
        (settings.landing / source).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SAMPLES / name, settings.landing / source / name)
        dropped += 1
    runs = [
        subprocess.Popen(
            _cli("--data-dir", "data", "run", "--date", DAY),
            cwd=tmp_path,
            env=_env(home),
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    errs = [p.communicate(timeout=TIMEOUT)[1] for p in runs]
    assert [p.returncode for p in runs] == [0, 0], errs
    waited = [e for e in errs if "tokencomp run: waiting for the data dir, held by pid " in e]
    assert len(waited) == 1 and "(tokencomp run, since " in waited[0]
    manifest = read_manifest(settings)
    assert manifest.height == len(set(manifest["sha256"])) == dropped == 24  # each landed once
    assert not [p for p in settings.landing.rglob("*") if p.is_file()]


_HOLD_LOCK = """
import sys, time
from pathlib import Path
from pipelines.locks import data_dir_lock
with data_dir_lock(Path(sys.argv[1]), "tokencomp reprice"):
    Path(sys.argv[2]).touch()
    while Path(sys.argv[2]).exists():
        time.sleep(0.02)
"""


def test_status_shows_who_holds_the_data_dir(tmp_path: Path, home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    held = tmp_path / "held"
    proc = subprocess.Popen([sys.executable, "-c", _HOLD_LOCK, str(tmp_path / "data"), str(held)], env=_env(home))
    try:
        _wait_for("the lock to be taken", held.exists)
        assert main(["--data-dir", str(tmp_path / "data"), "status"]) == 0
        held.unlink()
        assert proc.wait(timeout=60) == 0
    finally:
        proc.kill()
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("Data dir lock:"))
    assert line.startswith(f"Data dir lock: pid {proc.pid} on {socket.gethostname()} (tokencomp reprice, since ")
    assert main(["--data-dir", str(tmp_path / "data"), "status"]) == 0
    assert "Data dir lock: free" in capsys.readouterr().out.splitlines()
    assert (tmp_path / "data" / ".tokencomp.lock").read_text() == ""  # released: it no longer names a holder


class _InterruptedFinalizer:
    """An object whose finalizer is where Ctrl-C lands (as it can in SQLAlchemy's weakref callbacks)."""

    def __del__(self) -> None:
        raise KeyboardInterrupt


def test_a_ctrl_c_landing_in_a_finalizer_still_interrupts_the_run_and_prints_no_traceback(
    instance: dg.DagsterInstance, capsys: pytest.CaptureFixture[str]
) -> None:
    from pipelines.instance import watch_run

    before = sys.unraisablehook
    with pytest.raises(KeyboardInterrupt), watch_run(instance, "run-id", print, poll_seconds=0.01):
        _InterruptedFinalizer()  # dropped at once: Python would print "Exception ignored in …" and go on
        for _ in range(500):  # the watcher raises the interrupt again in this thread within one poll
            time.sleep(0.01)
    assert "Exception ignored" not in capsys.readouterr().err
    assert sys.unraisablehook is before
