"""The schedules follow `[schedule]`: the nightly pull's time and zone, and month-end's day for the previous month."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from pipelines.config import ConfigError, load_settings
from pipelines.definitions import build_definitions
from pipelines.defs.months import MONTH_TAG
from pipelines.defs.resources import TokencompResource

BERLIN = ZoneInfo("Europe/Berlin")


def _defs(folder: Path, schedule: str = "") -> dg.Definitions:
    config = folder / "tokencomp.toml"
    config.write_text(f'[pipeline]\nfirst_partition_date = "2026-01-01"\n\n[schedule]\n{schedule}')
    return build_definitions(TokencompResource(config_path=str(config), data_dir=str(folder / "data")))


@pytest.fixture(scope="module")
def defaults(tmp_path_factory: pytest.TempPathFactory) -> dg.Definitions:
    """The definitions with the default [schedule] (first partition 2026-01-01)."""
    return _defs(tmp_path_factory.mktemp("defaults"))


def _tick(instance: dg.DagsterInstance, defs: dg.Definitions, name: str, at: datetime) -> dg.RunRequest | dg.SkipReason:
    """What schedule `name` asks for at tick `at`, as the daemon evaluates it (inside a test instance: resolving
    the definitions reads the current instance's state storage)."""
    context = dg.build_schedule_context(
        instance=instance, scheduled_execution_time=at, repository_def=defs.get_repository_def()
    )
    data = defs.resolve_schedule_def(name).evaluate_tick(context)
    if data.skip_message is not None:
        return dg.SkipReason(data.skip_message)
    assert data.run_requests is not None and len(data.run_requests) == 1
    return data.run_requests[0]


def test_by_default_the_pull_starts_at_03_utc_and_month_end_on_the_5th_at_06(
    instance: dg.DagsterInstance, defaults: dg.Definitions
) -> None:
    defs = defaults
    nightly, month_close = (defs.resolve_schedule_def(n) for n in ("nightly_schedule", "month_close_schedule"))
    assert (nightly.cron_schedule, nightly.execution_timezone, nightly.job_name) == ("0 3 * * *", "UTC", "pull")
    assert (month_close.cron_schedule, month_close.execution_timezone, month_close.job_name) == (
        "0 6 5 * *",
        "UTC",
        "month_close",
    )
    request = _tick(instance, defs, "nightly_schedule", datetime(2026, 12, 2, 3, 0, tzinfo=UTC))
    assert isinstance(request, dg.RunRequest) and request.partition_key == "2026-12-01"


def test_the_schedules_follow_the_configured_time_zone_and_day(instance: dg.DagsterInstance, tmp_path: Path) -> None:
    defs = _defs(
        tmp_path,
        'nightly_at = "01:30"\ntimezone = "Europe/Berlin"\nmonth_close_day = 3\nmonth_close_at = "07:15"\n',
    )
    nightly, month_close = (defs.resolve_schedule_def(n) for n in ("nightly_schedule", "month_close_schedule"))
    assert (nightly.cron_schedule, nightly.execution_timezone) == ("30 1 * * *", "Europe/Berlin")
    assert (month_close.cron_schedule, month_close.execution_timezone) == ("15 7 3 * *", "Europe/Berlin")
    # 01:30 in Berlin on Dec 2 is 00:30 UTC: the last complete UTC billing day is Dec 1
    request = _tick(instance, defs, "nightly_schedule", datetime(2026, 12, 2, 1, 30, tzinfo=BERLIN))
    assert isinstance(request, dg.RunRequest) and request.partition_key == "2026-12-01"
    request = _tick(instance, defs, "month_close_schedule", datetime(2026, 3, 3, 7, 15, tzinfo=BERLIN))
    assert isinstance(request, dg.RunRequest) and request.partition_key == "2026-02"


@pytest.mark.parametrize(
    ("tick", "month"),
    [
        (datetime(2026, 12, 5, 6, 0, tzinfo=UTC), "2026-11"),
        (datetime(2026, 3, 5, 6, 0, tzinfo=UTC), "2026-02"),
        (datetime(2027, 1, 5, 6, 0, tzinfo=UTC), "2026-12"),
    ],
)
def test_month_close_runs_for_the_previous_months_partition(
    instance: dg.DagsterInstance, defaults: dg.Definitions, tick: datetime, month: str
) -> None:
    defs = defaults
    request = _tick(instance, defs, "month_close_schedule", tick)
    assert isinstance(request, dg.RunRequest)
    assert (request.partition_key, request.tags[MONTH_TAG], request.run_key) == (month, month, f"month_close-{month}")
    partitions = defs.resolve_job_def("month_close").partitions_def
    assert partitions is not None and month in partitions.get_partition_keys(current_time=tick)


def test_month_close_skips_a_month_before_the_first_partition(
    instance: dg.DagsterInstance, defaults: dg.Definitions
) -> None:
    request = _tick(instance, defaults, "month_close_schedule", datetime(2026, 1, 5, 6, 0, tzinfo=UTC))
    assert request == dg.SkipReason("2025-12 is before the first partition month 2026-01")


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ('nightly_at = "3am"', "schedule.nightly_at must be a time \"HH:MM\", not '3am'"),
        ('month_close_at = "24:00"', "schedule.month_close_at must be a time \"HH:MM\", not '24:00'"),
        ('timezone = "Mars/Olympus"', "schedule.timezone: unknown time zone 'Mars/Olympus'"),
        ("month_close_day = 31", "schedule.month_close_day must be a day 1-28, not 31"),
        (
            "landing_settle_seconds = -1",
            "schedule.landing_settle_seconds must be a whole number of seconds >= 0, not -1",
        ),
        (
            'landing_settle_seconds = "60"',
            "schedule.landing_settle_seconds must be a whole number of seconds >= 0, not '60'",
        ),
    ],
)
def test_schedule_config_is_checked(tmp_path: Path, line: str, error: str) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(f"[schedule]\n{line}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert str(caught.value) == f"invalid configuration: {error}"
