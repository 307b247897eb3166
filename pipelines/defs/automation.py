"""The nightly jobs, schedules and sensors: the pull of yesterday at `schedule.nightly_at`, then the build, however
the pull ended; and month-end on `schedule.month_close_day` for the previous month.

A night is two runs. `pull` fetches every credentialed source's pages into raw/; `nightly` then ingests
landing/, rebuilds the lake and publishes the warehouse from whatever raw/ holds. Inside one run Dagster
abandons every step downstream of a failure, so the seam between them is a run boundary: a provider that
is down fails its own pull asset and the build still publishes everyone else's data (and its last good).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg

from pipelines.config import ScheduleSettings, Settings
from pipelines.defs.months import GROUP as EXPORTS_GROUP
from pipelines.defs.months import MONTH_TAG, month_close_job
from pipelines.defs.pull import PREFIX as PULL_PREFIX

RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"

pull_job = dg.define_asset_job(
    "pull",
    selection=dg.AssetSelection.key_prefixes([PULL_PREFIX]),
    description="Pull every source with an API and credentials into raw/: the run's days plus the re-pull window.",
)

nightly_job = dg.define_asset_job(
    "nightly",
    # the monthly finance outputs are the `month_close` job's (a run has one kind of partition)
    selection=dg.AssetSelection.all()
    - dg.AssetSelection.key_prefixes([PULL_PREFIX])
    - dg.AssetSelection.groups(EXPORTS_GROUP),
    description="Ingest landing/, rebuild the lake for the partition window, then build and publish the warehouse.",
)


def _cron(at: str, day_of_month: str = "*") -> str:
    hour, minute = (int(part) for part in at.split(":"))
    return f"{minute} {hour} {day_of_month} * *"


def last_billing_day(tick: datetime) -> date:
    """The last UTC billing day complete at `tick` (the day before the tick's UTC date)."""
    return tick.astimezone(UTC).date() - timedelta(days=1)


def previous_month(tick: datetime, timezone: str) -> date:
    """The first day of the month before the one `tick` falls in, on the schedule's own calendar."""
    local = tick.astimezone(ZoneInfo(timezone)).date()
    return (local.replace(day=1) - timedelta(days=1)).replace(day=1)


def nightly_schedule(settings: Settings) -> dg.ScheduleDefinition:
    """The nightly schedule: at `schedule.nightly_at` (in `schedule.timezone`) pull yesterday's UTC billing day;
    each source's pull re-fetches its trailing re-pull window too, and the build follows the pull run
    (build_after_pull / build_after_failed_pull) from the first day the pulls changed."""
    at: ScheduleSettings = settings.schedule
    first = settings.first_partition_date

    @dg.schedule(
        name="nightly_schedule",
        cron_schedule=_cron(at.nightly_at),
        execution_timezone=at.timezone,
        job=pull_job,
        description=f"{at.nightly_at} {at.timezone}: pull yesterday (and each source's re-pull window); the build "
        "follows.",
    )
    def _nightly(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
        day = last_billing_day(context.scheduled_execution_time)
        if day < first:
            return dg.SkipReason(f"{day} is before the first partition date {first}")
        return dg.RunRequest(run_key=f"nightly-{day}", partition_key=day.isoformat())

    return _nightly


def month_close_schedule(settings: Settings) -> dg.ScheduleDefinition:
    """The month-end schedule: on `schedule.month_close_day` at `schedule.month_close_at`, once the providers'
    invoices have settled, run `month_close` for the previous month (freeze its books, write its finance pack)."""
    at: ScheduleSettings = settings.schedule
    first = settings.first_partition_date.replace(day=1)

    @dg.schedule(
        name="month_close_schedule",
        cron_schedule=_cron(at.month_close_at, str(at.month_close_day)),
        execution_timezone=at.timezone,
        job=month_close_job,
        description=f"Day {at.month_close_day} of each month, {at.month_close_at} {at.timezone}: close the previous "
        "month and write its month-end exports.",
    )
    def _month_close(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
        month = previous_month(context.scheduled_execution_time, at.timezone)
        if month < first:
            return dg.SkipReason(f"{month:%Y-%m} is before the first partition month {first:%Y-%m}")
        key = f"{month:%Y-%m}"
        return dg.RunRequest(run_key=f"month_close-{key}", partition_key=key, tags={MONTH_TAG: key})

    return _month_close


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
