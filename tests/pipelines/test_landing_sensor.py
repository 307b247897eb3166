"""The landing sensor: a file dropped in landing/<source>/ starts one ingest run, once, across a daemon restart.

The sensor is evaluated by Dagster's own sensor daemon iteration on a real SQLite instance (its cursor and run
keys stored there); its runs execute for real, in process. The "restart" closes that instance and opens it again
from its directory, as a restarted daemon would.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.remote_origin import InProcessCodeLocationOrigin
from dagster._core.scheduler.instigation import TickStatus
from dagster._core.test_utils import create_test_daemon_workspace_context, freeze_time
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget
from dagster._daemon.sensor import execute_sensor_iteration

from pipelines.config import Settings, load_settings
from pipelines.definitions import build_definitions, defs
from pipelines.defs import sensors
from pipelines.defs.resources import TokencompResource
from pipelines.services.ingest import read_manifest, sha256_of
from tests.conftest import SAMPLES, land_sample

SOURCE = "openai_costs"
FIRST = "openai_costs_grouped_example.json"
SECOND = "openai_costs_page1.json"
LOCATION = """
from pipelines.definitions import build_definitions
from pipelines.defs.resources import TokencompResource

defs = build_definitions(TokencompResource(data_dir={data!r}, config_path={config!r}))
"""
# files here are written whole before the tick: no settle time (the config's, which the sensor reads)
NO_SETTLE = "[schedule]\nlanding_settle_seconds = 0\n"
START = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)  # the daemon's clock, one minute a tick (min interval is 30 s)


class Daemon:
    """Dagster's sensor daemon over a code location building tokencomp's definitions for one data dir."""

    def __init__(self, settings: Settings, root: Path) -> None:
        self.settings = settings
        self.home = root / "dagster_home"
        self.home.mkdir()
        self.location = root / "location.py"
        config = root / "tokencomp.toml"
        config.write_text(NO_SETTLE)
        self.location.write_text(LOCATION.format(data=str(settings.data_dir), config=str(config)))
        self.ticks = 0

    @contextmanager
    def running(self) -> Iterator[tuple[dg.DagsterInstance, object]]:
        """The instance (opened from its directory) and the daemon's workspace, for one daemon lifetime."""
        origin = InProcessCodeLocationOrigin(
            LoadableTargetOrigin(python_file=str(self.location), working_directory=str(self.location.parent)),
            location_name="tokencomp",
        )
        with (
            dg.instance_for_test(
                temp_dir=str(self.home), synchronous_run_coordinator=True, synchronous_run_launcher=True
            ) as instance,
            create_test_daemon_workspace_context(InProcessWorkspaceLoadTarget(origin), instance) as workspace,
        ):
            yield instance, workspace

    def tick(self, instance: dg.DagsterInstance, workspace: object) -> None:
        """One iteration of the sensor daemon; a requested run executes before it returns."""
        self.ticks += 1
        with freeze_time(START + timedelta(minutes=self.ticks)):
            list(execute_sensor_iteration(workspace, logging.getLogger("test"), None, None))  # type: ignore[arg-type]


def landing_runs(instance: dg.DagsterInstance) -> list[dg.DagsterRun]:
    return list(reversed(instance.get_runs(filters=dg.RunsFilter(job_name=sensors.INGEST_LANDING))))


def last_tick(instance: dg.DagsterInstance) -> tuple[TickStatus, str | None]:
    [state] = [s for s in instance.all_instigator_state() if s.name == sensors.SENSOR]
    [tick] = instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=1)
    return tick.status, (tick.skip_reason or None)


def raw_copies(settings: Settings) -> list[str]:
    return sorted(p.name for p in (settings.raw / SOURCE).rglob("*.json"))


def test_a_dropped_file_starts_one_ingest_run_exactly_once_across_a_restart(settings: Settings, tmp_path: Path) -> None:
    daemon = Daemon(settings, tmp_path)
    first = land_sample(settings, SOURCE, FIRST)
    first_sha = sha256_of(first)
    with daemon.running() as (instance, workspace):
        remote = next(iter(workspace.create_request_context().get_code_location_entries().values()))
        sensor = remote.code_location.get_repository("__repository__").get_sensor(sensors.SENSOR)
        instance.start_sensor(sensor)  # it ships stopped: the platform team turns it on

        daemon.tick(instance, workspace)
        [run] = landing_runs(instance)
        assert run.status == dg.DagsterRunStatus.SUCCESS
        assert run.asset_selection == {dg.AssetKey(["raw", SOURCE])}
        assert run.tags["tokencomp/landing_files"] == "1" and run.tags["dagster/run_key"].startswith("landing-")
        assert not first.exists()  # the run moved it out of landing/ ...
        assert raw_copies(settings) == [f"{first_sha}.json"]  # ... into raw/, once
        assert read_manifest(settings)["name"].to_list() == [f"{SOURCE}/{FIRST}"]

        daemon.tick(instance, workspace)
        assert len(landing_runs(instance)) == 1
        assert last_tick(instance) == (TickStatus.SKIPPED, "no new files in landing/")

    with daemon.running() as (instance, workspace):  # the daemon restarts: the cursor is the instance's
        daemon.tick(instance, workspace)
        assert len(landing_runs(instance)) == 1
        assert last_tick(instance) == (TickStatus.SKIPPED, "no new files in landing/")

        second = land_sample(settings, SOURCE, SECOND)
        second_sha = sha256_of(second)
        daemon.tick(instance, workspace)
        runs = landing_runs(instance)
        assert [r.status for r in runs] == [dg.DagsterRunStatus.SUCCESS] * 2
        assert runs[1].tags["dagster/run_key"] != runs[0].tags["dagster/run_key"]
        assert raw_copies(settings) == sorted([f"{first_sha}.json", f"{second_sha}.json"])
        assert read_manifest(settings)["name"].to_list() == [f"{SOURCE}/{FIRST}", f"{SOURCE}/{SECOND}"]

        daemon.tick(instance, workspace)
        assert len(landing_runs(instance)) == 2


def evaluate(sensor: dg.SensorDefinition, instance: dg.DagsterInstance, cursor: str | None) -> dg.SensorResult:
    context = dg.build_sensor_context(instance=instance, cursor=cursor)
    result = sensor.evaluate_tick(context)
    return dg.SensorResult(run_requests=result.run_requests, skip_reason=result.skip_message, cursor=result.cursor)


def test_a_file_still_being_written_waits_and_the_cursor_forgets_what_left_landing(
    settings: Settings, instance: dg.DagsterInstance
) -> None:
    assert settings.schedule.landing_settle_seconds == 60  # the shipped settle time
    sensor = sensors.landing_sensor(settings)
    dropped = land_sample(settings, SOURCE, FIRST)
    waiting = evaluate(sensor, instance, None)
    assert waiting.run_requests == []
    assert waiting.skip_reason == dg.SkipReason(f"still being written, waiting 60 s: {SOURCE} (1 new file)")

    settled = evaluate(sensors.landing_sensor(settings, settle_seconds=0.0), instance, waiting.cursor)
    [request] = settled.run_requests
    assert request.asset_selection == [dg.AssetKey(["raw", SOURCE])]
    stat = dropped.stat()
    assert sensors.read_cursor(settled.cursor) == {SOURCE: {FIRST: (stat.st_size, stat.st_mtime_ns)}}

    # rewritten in place (another size): a new delivery, requested again under another run key
    with dropped.open("a") as fh:
        fh.write("\n")
    again = evaluate(sensors.landing_sensor(settings, settle_seconds=0.0), instance, settled.cursor)
    [second] = again.run_requests
    assert second.run_key != request.run_key

    # gone from landing/ (ingested): forgotten, so the cursor stays as small as the inbox
    dropped.unlink()
    empty = evaluate(sensors.landing_sensor(settings, settle_seconds=0.0), instance, again.cursor)
    assert empty.run_requests == [] and sensors.read_cursor(empty.cursor) == {}


def test_the_same_bytes_dropped_again_with_their_mtime_kept_are_requested_again(
    settings: Settings, instance: dg.DagsterInstance
) -> None:
    """`cp -p` keeps size and mtime: after the first copy was ingested (gone from landing/), the second one is still
    a delivery (the run key has the inode change time), not a run Dagster would skip as already requested."""
    sensor = sensors.landing_sensor(settings, settle_seconds=0.0)
    target = settings.landing / SOURCE / FIRST
    target.parent.mkdir(parents=True)
    shutil.copy2(SAMPLES / FIRST, target)
    [first] = evaluate(sensor, instance, None).run_requests
    target.unlink()
    cursor = evaluate(sensor, instance, None).cursor
    shutil.copy2(SAMPLES / FIRST, target)
    [second] = evaluate(sensor, instance, cursor).run_requests
    assert second.run_key != first.run_key


def test_scratch_names_and_disabled_sources_are_not_watched(settings: Settings, instance: dg.DagsterInstance) -> None:
    """`_`/`.` names are a writer's scratch (the sweep skips them too); a source off in config is not watched."""
    folder = settings.landing / SOURCE
    folder.mkdir(parents=True)
    shutil.copyfile(SAMPLES / FIRST, folder / f".{FIRST}.part")
    shutil.copyfile(SAMPLES / FIRST, folder / f"_{FIRST}")
    sensor = sensors.landing_sensor(settings, settle_seconds=0.0)
    assert evaluate(sensor, instance, None).skip_reason == dg.SkipReason("no new files in landing/")

    land_sample(settings, SOURCE, FIRST)
    off = replace(settings, enabled_sources=tuple(s for s in settings.enabled_sources if s != SOURCE))
    assert evaluate(sensors.landing_sensor(off, settle_seconds=0.0), instance, None).run_requests == []


@pytest.mark.parametrize("job", ["nightly", "pull", sensors.INGEST_LANDING])
def test_nothing_is_requested_while_a_sweep_is_running(
    settings: Settings, instance: dg.DagsterInstance, job: str
) -> None:
    """Two sweeps of one folder at once would read the same files; the build follows a pull within seconds."""
    land_sample(settings, SOURCE, FIRST)
    job_def = build_definitions(TokencompResource(data_dir=str(settings.data_dir))).resolve_job_def(job)
    run = instance.create_run_for_job(job_def, status=dg.DagsterRunStatus.STARTED)
    result = evaluate(sensors.landing_sensor(settings, settle_seconds=0.0), instance, None)
    assert result.run_requests == []
    assert result.skip_reason == dg.SkipReason(f"run {run.run_id[:8]} ({job}) is in progress; landing/ waits")
    instance.report_run_failed(run)
    assert len(evaluate(sensors.landing_sensor(settings, settle_seconds=0.0), instance, None).run_requests) == 1


def test_the_sensor_ships_stopped_and_requests_the_ingest_landing_job() -> None:
    sensor = defs.resolve_sensor_def(sensors.SENSOR)
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED
    assert sensor.job_name == sensors.INGEST_LANDING
    job = defs.resolve_job_def(sensors.INGEST_LANDING)
    assert job.asset_layer.executable_asset_keys == set(sensors.raw_keys())


def test_the_settle_time_comes_from_the_config(tmp_path: Path, instance: dg.DagsterInstance) -> None:
    config = tmp_path / "tokencomp.toml"
    config.write_text("[schedule]\nlanding_settle_seconds = 3600\n")
    settings = load_settings(config, data_dir=tmp_path / "data")
    land_sample(settings, SOURCE, FIRST)
    waiting = evaluate(sensors.landing_sensor(settings), instance, None)
    assert waiting.run_requests == []
    assert waiting.skip_reason == dg.SkipReason(f"still being written, waiting 3600 s: {SOURCE} (1 new file)")
