"""A delivery that lands after the lake was built, for a day outside the night's window, still reaches the lake
and the warehouse on the next nightly run, once (services/late.py)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from pipelines.config import Settings, load_settings
from pipelines.definitions import build_definitions
from pipelines.defs.resources import TokencompResource
from pipelines.services.ingest import ingest
from pipelines.services.lake import partition_path
from pipelines.services.late import day_runs
from pipelines.status_command import print_status

LANDED_AT = "2026-03-11T06:00:00+00:00"
FIRST, LATE, SECOND, THIRD = date(2026, 3, 2), date(2026, 2, 25), date(2026, 3, 3), date(2026, 3, 4)
LAKE = dg.AssetKey(["lake", "usage"])
AT = datetime(2026, 3, 11, 6, tzinfo=UTC)


def session(settings: Settings, name: str, day: date, outputs: list[int], prefix: str) -> Path:
    """One engineer's Claude Code session file in landing/: one response per output count, on `day`."""
    folder = settings.landing / "claude_code_logs" / "dev@example.com" / "projects" / "p"
    folder.mkdir(parents=True, exist_ok=True)
    start = datetime(day.year, day.month, day.day, 10, tzinfo=UTC)
    lines = []
    for i, out in enumerate(outputs):
        at = (start + timedelta(minutes=i)).isoformat().replace("+00:00", "Z")
        usage = {"input_tokens": 3, "output_tokens": out, "cache_read_input_tokens": 50}
        message = {"id": f"{prefix}_{i}", "model": "claude-sonnet-4-5-20250929", "usage": usage}
        lines.append(
            json.dumps({"type": "assistant", "timestamp": at, "requestId": f"{prefix}{i}", "message": message})
        )
    path = folder / name
    path.write_text("\n".join(lines) + "\n")
    return path


@dataclass
class Nights:
    settings: Settings
    job: dg.JobDefinition
    instance: dg.DagsterInstance

    def run(self, day: date) -> dg.ExecuteInProcessResult:
        result = self.job.execute_in_process(instance=self.instance, partition_key=day.isoformat())
        assert result.success
        return result


@pytest.fixture
def nights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Nights]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TOKENCOMP_CONFIG", raising=False)
    settings = load_settings(data_dir=tmp_path / "data")
    resource = TokencompResource(data_dir=str(settings.data_dir), landed_at=LANDED_AT)
    with dg.instance_for_test() as instance:
        yield Nights(settings, build_definitions(resource).resolve_job_def("nightly"), instance)


def _lake_events(result: dg.ExecuteInProcessResult) -> list[tuple[str | None, dict[str, object]]]:
    return [
        (e.partition, {k: v.value for k, v in e.materialization.metadata.items()})
        for e in result.get_asset_materialization_events()
        if e.asset_key == LAKE
    ]


def _lake_metadata(result: dg.ExecuteInProcessResult) -> dict[str, object]:
    """The run's own lake/usage materialization (for its partition), not a late day's."""
    [meta] = [meta for _, meta in _lake_events(result) if "late_delivery" not in meta]
    return meta


def _late_partitions(result: dg.ExecuteInProcessResult) -> dict[str | None, dict[str, object]]:
    """The late days' lake/usage materializations the run reported, by partition."""
    return {partition: meta for partition, meta in _lake_events(result) if "late_delivery" in meta}


def _status(settings: Settings) -> list[str]:
    """The late-days lines `tokencomp status` prints."""
    out = Console(record=True, width=200)
    print_status(settings, out)
    return [line for line in out.export_text().splitlines() if line.startswith("Late days")]


def _warehouse_outputs(settings: Settings) -> dict[date, int]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        rows = con.sql(
            "select billing_date, sum(output_tokens)::bigint from core.fct_usage_daily group by all order by 1"
        ).fetchall()
    return dict(rows)


def test_a_late_delivery_for_an_older_day_is_built_by_the_next_night_and_only_once(nights: Nights) -> None:
    settings = nights.settings
    session(settings, "first.jsonl", FIRST, [10, 20], "a")
    first = nights.run(FIRST)
    assert _lake_metadata(first)["late_days"] == []

    # after that night, a file arrives for a day a week earlier: the next night builds it too
    session(settings, "late.jsonl", LATE, [7, 11, 13], "b")
    ingest(settings, "claude_code_logs", [settings.landing / "claude_code_logs"], landed_at=AT)
    assert _status(settings) == [
        "Late days: 1 (2026-02-25 … 2026-02-25) got a delivery after their last lake build; the next nightly run "
        "rebuilds them"
    ]
    second = nights.run(SECOND)
    assert _status(settings) == []
    assert _lake_metadata(second)["late_days"] == [LATE.isoformat()]
    partitions = _late_partitions(second)
    assert set(partitions) == {LATE.isoformat()}
    assert partitions[LATE.isoformat()]["dagster/row_count"] == 3
    assert partitions[LATE.isoformat()]["late_delivery"] is True
    lake = pl.read_parquet(partition_path(settings, LATE))
    assert (lake.height, lake["output_tokens"].sum()) == (3, 7 + 11 + 13)
    assert _warehouse_outputs(settings) == {LATE: 31, FIRST: 30}
    materialized = nights.instance.get_materialized_partitions(LAKE)
    assert {LATE.isoformat(), FIRST.isoformat(), SECOND.isoformat()} <= materialized

    # built once: the third night finds nothing late and leaves that day's file as it was
    before = partition_path(settings, LATE).stat()
    third = nights.run(THIRD)
    assert _lake_metadata(third)["late_days"] == []
    assert _late_partitions(third) == {}
    after = partition_path(settings, LATE).stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_a_file_ingested_between_nights_reaches_the_lake_on_the_next_night(nights: Nights) -> None:
    """What the landing sensor's ingest-only run (or `tokencomp ingest`) lands for an old day is built next."""
    settings = nights.settings
    session(settings, "first.jsonl", FIRST, [10], "a")
    session(settings, "late.jsonl", LATE, [5], "b")
    nights.run(FIRST)
    assert not partition_path(settings, LATE).exists()  # there before the first build: the night's days only

    more = session(settings, "more.jsonl", LATE, [8, 9], "c")
    [outcome] = ingest(settings, "claude_code_logs", [more.parents[2]], landed_at=datetime(2026, 3, 11, tzinfo=UTC))
    assert outcome.status == "landed"
    second = nights.run(SECOND)
    assert _lake_metadata(second)["late_days"] == [LATE.isoformat()]
    # the day is built from every delivery it has: the one from before the first build too
    assert pl.read_parquet(partition_path(settings, LATE))["output_tokens"].sort().to_list() == [5, 8, 9]
    assert _warehouse_outputs(settings) == {LATE: 22, FIRST: 10}


@given(st.sets(st.integers(min_value=0, max_value=60), max_size=30))
def test_day_runs_cover_exactly_the_days_in_separate_runs(offsets: set[int]) -> None:
    days = sorted(date(2026, 1, 1) + timedelta(days=n) for n in offsets)
    runs = day_runs(days)
    covered = [first + timedelta(days=i) for first, last in runs for i in range((last - first).days + 1)]
    assert covered == days
    assert all(later[0] - earlier[1] > timedelta(days=1) for earlier, later in itertools.pairwise(runs))
