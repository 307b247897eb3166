"""Resilience of the nightly run (issue 13, item 6): the DuckDB writers share one pool of one slot, and a run that
dies halfway publishes nothing while the next run completes its work. Real subprocesses and a real SIGKILL.

The other parts of item 6 are covered elsewhere: a 429 retried to success inside a run
(tests/pipelines/test_nightly_pull.py::test_a_429_with_retry_after_is_retried_to_success_inside_the_run), Dagster's
two retries and a 401 never retried (test_one_provider_failing_fails_its_pulls_and_the_rest_still_publishes_with_exit_2
there), and a dead run's pool slot freed (tests/pipelines/test_run_safety.py).
"""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
from importlib.resources import files
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.definitions import build_definitions
from pipelines.defs.resources import TokencompResource
from tests.conftest import SAMPLES
from tests.pipelines.test_run_safety import DAY, TIMEOUT, _cli, _env, _instance, _wait_for

POOL = "duckdb_warehouse"
# the groups whose assets write a DuckDB file (the warehouse's core.* and mart.* tables)
WRITER_GROUPS = {"lake", "warehouse", "marts"}


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / ".dagster"))
    monkeypatch.delenv("TOKENCOMP_CONFIG", raising=False)
    return tmp_path / ".dagster"


def test_every_warehouse_writer_runs_in_the_duckdb_pool_and_the_instance_gives_it_one_slot(
    tmp_path: Path, home: Path
) -> None:
    defs = build_definitions(TokencompResource(data_dir=str(tmp_path / "data")))
    graph = defs.resolve_asset_graph()
    writers = {k for k in graph.get_all_asset_keys() if graph.get(k).group_name in WRITER_GROUPS}
    assert writers
    assert {k.to_user_string(): defs.resolve_assets_def(k).node_def.pool for k in writers} == {
        k.to_user_string(): POOL for k in writers
    }
    home.mkdir()
    shutil.copyfile(str(files("pipelines").joinpath("dagster.yaml")), home / "dagster.yaml")
    with _instance(home) as instance:
        assert instance.get_concurrency_config().pool_config.default_pool_limit == 1


def _new_run_step_succeeded(home: Path, step: str, old: set[str]) -> str | None:
    """The id of the latest run, if it is not one of `old` and its `step` has succeeded; else None."""
    with _instance(home) as inst:
        runs = inst.get_runs(limit=1)
        if runs and runs[0].run_id not in old:
            done = inst.all_logs(runs[0].run_id, of_type=dg.DagsterEventType.STEP_SUCCESS)
            if any(e.step_key == step for e in done):
                return runs[0].run_id
    return None


def _anthropic_output_tokens(warehouse: Path) -> int | None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        found = con.sql(
            "select sum(output_tokens)::bigint from core.fct_usage_daily where provider = 'anthropic'"
        ).fetchall()
    return found[0][0]


@pytest.mark.slow
def test_a_run_killed_halfway_publishes_nothing_and_the_next_run_completes_it(tmp_path: Path, home: Path) -> None:
    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            _cli("--data-dir", "data", "run", "--date", DAY),
            cwd=tmp_path,
            env=_env(home),
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )

    first = run()  # nothing landed yet: the last good warehouse is an empty one
    assert first.returncode == 0, first.stderr
    published = tmp_path / "data" / "warehouse.duckdb"
    last_good = published.read_bytes()
    assert _anthropic_output_tokens(published) is None

    usage = SAMPLES / "anthropic_usage_report_messages_example.json"
    for source, sample in (
        ("anthropic_usage", usage),
        ("anthropic_cost", SAMPLES / "anthropic_cost_report_example.json"),
    ):
        (tmp_path / "data" / "landing" / source).mkdir(parents=True)
        shutil.copyfile(sample, tmp_path / "data" / "landing" / source / sample.name)
    expected = sum(r["output_tokens"] for page in json.loads(usage.read_text())["data"] for r in page["results"])

    # killed the moment the lake holds the new rows: the warehouse build that follows never finishes
    with _instance(home) as inst:
        old = {r.run_id for r in inst.get_runs()}
    dying = subprocess.Popen(
        _cli("--data-dir", "data", "run", "--date", DAY),
        cwd=tmp_path,
        env=_env(home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    killed: list[str] = []

    def lake_done() -> bool:
        run_id = _new_run_step_succeeded(home, "lake__usage", old)
        killed.extend([run_id] if run_id else [])
        return bool(killed)

    try:
        _wait_for("the lake step to finish", lake_done, TIMEOUT)
        dying.send_signal(signal.SIGKILL)
        dying.wait(timeout=TIMEOUT)
    finally:
        dying.kill()
    dead = killed[0]
    if published.read_bytes() != last_good:
        # the kill came after the publish (a busy machine): then what is published is a whole build, never a part
        assert _anthropic_output_tokens(published) == expected
    with _instance(home) as inst:
        assert inst.get_run_by_id(dead).status == dg.DagsterRunStatus.STARTED  # nobody was told it died

    second = run()
    assert second.returncode == 0, second.stderr
    gone = f"process {dying.pid} on {socket.gethostname()} is gone (killed, out of memory or rebooted)"
    assert f"freed run {dead[:8]}: {gone}" in second.stderr
    assert _anthropic_output_tokens(published) == expected == 500
    with _instance(home) as inst:
        assert inst.get_run_by_id(dead).status == dg.DagsterRunStatus.FAILURE
        latest = inst.get_runs(limit=1)[0]
        assert (latest.job_name, latest.status) == ("nightly", dg.DagsterRunStatus.SUCCESS)
        info = inst.event_log_storage.get_concurrency_info(POOL)
        assert (info.slot_count, info.active_run_ids, info.pending_run_ids) == (1, set(), set())
