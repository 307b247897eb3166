"""The nightly jobs, schedule and sensors: 03:00 UTC pull of yesterday, then the build, however the pull ended.

A night is two runs. `pull` fetches every credentialed source's pages into raw/; `nightly` then ingests
landing/, rebuilds the lake and publishes the warehouse from whatever raw/ holds. Inside one run Dagster
abandons every step downstream of a failure, so the seam between them is a run boundary: a provider that
is down fails its own pull asset and the build still publishes everyone else's data (and its last good).
"""

from __future__ import annotations

from datetime import date

import dagster as dg

from pipelines.defs.pull import PREFIX as PULL_PREFIX

RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"

pull_job = dg.define_asset_job(
    "pull",
    selection=dg.AssetSelection.key_prefixes([PULL_PREFIX]),
    description="Pull every source with an API and credentials into raw/: the run's days plus the re-pull window.",
)

nightly_job = dg.define_asset_job(
    "nightly",
    selection=dg.AssetSelection.all() - dg.AssetSelection.key_prefixes([PULL_PREFIX]),
    description="Ingest landing/, rebuild the lake for the partition window, then build and publish the warehouse.",
)

nightly_schedule = dg.build_schedule_from_partitioned_job(
    pull_job, hour_of_day=3, name="nightly_schedule", description="03:00 UTC: pull yesterday; the build follows."
)


def run_window(run: dg.DagsterRun) -> tuple[date, date]:
    """The billing days a run was for, from its partition range tags or its single partition."""
    tags = run.tags
    if RANGE_START in tags:
        return date.fromisoformat(tags[RANGE_START]), date.fromisoformat(tags[RANGE_END])
    day = date.fromisoformat(tags["dagster/partition"])
    return day, day


def changed_from(instance: dg.DagsterInstance, run_id: str) -> date | None:
    """The earliest day a pull run landed new pages for (its re-pull window), or None if it landed nothing new."""
    days = [
        date.fromisoformat(str(value.value))
        for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
        if entry.asset_materialization is not None
        and (value := entry.asset_materialization.metadata.get("changed_from")) is not None
        and value.value
    ]
    return min(days) if days else None


def build_request(instance: dg.DagsterInstance, pull_run: dg.DagsterRun) -> dg.RunRequest:
    """The build run that follows a pull run: its days, widened back to the first day the pulls changed."""
    start, end = run_window(pull_run)
    first = min(start, changed_from(instance, pull_run.run_id) or start)
    return dg.RunRequest(
        run_key=f"after-{pull_run.run_id}",
        tags={RANGE_START: first.isoformat(), RANGE_END: end.isoformat(), "tokencomp/after_pull": pull_run.run_id},
    )


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[pull_job],
    request_job=nightly_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="When a pull run succeeds, build and publish for its days (and the days it re-pulled).",
)
def build_after_pull(context: dg.RunStatusSensorContext) -> dg.RunRequest:
    """Start the nightly build once the pulls are in."""
    return build_request(context.instance, context.dagster_run)


@dg.run_failure_sensor(
    monitored_jobs=[pull_job],
    request_job=nightly_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="When a pull run fails (a provider down or refusing its key), still build and publish the rest.",
)
def build_after_failed_pull(context: dg.RunFailureSensorContext) -> dg.RunRequest:
    """Start the nightly build anyway: the failed source keeps its last good data, the others are fresh."""
    return build_request(context.instance, context.dagster_run)
