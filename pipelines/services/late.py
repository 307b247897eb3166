"""Late deliveries: files that reached raw/ after the lake was built, for days no lake build has covered since.

A nightly run builds its own days. A file dropped for an older day (a late export, a corrected CSV, a
file the landing sensor ingested between two nights) would reach raw/ but never the lake, unless
someone ran those days again. Each lake build therefore records the days it built and the last
manifest sequence number it read (`lake/_builds.jsonl`). A day is late when a delivery covering it has
a higher sequence number than every build of that day, and the nightly run builds it too.

The first record sets a baseline: what raw/ held before it counts as built. A lake that already existed
starts clean, and a first nightly does not turn into a backfill of all history.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl

from pipelines.config import Settings
from pipelines.services.storage import append_jsonl, read_jsonl

BUILDS_SCHEMA = pl.Schema({"start": pl.Date, "end": pl.Date, "seq": pl.Int64})


def builds_log(settings: Settings) -> Path:
    """The append-only record of lake builds: one line per built window, with the manifest seq it read."""
    return settings.lake / "_builds.jsonl"


def record_build(settings: Settings, start: date, end: date, seq: int) -> None:
    """Record that the lake days [start, end] were built from every delivery up to manifest `seq`."""
    append_jsonl(builds_log(settings), [{"start": start.isoformat(), "end": end.isoformat(), "seq": seq}])


def late_days(settings: Settings, manifest: pl.DataFrame, last_day: date) -> list[date]:
    """The billing days, from `pipeline.first_partition_date` to `last_day`, that a delivery of an enabled
    source landed for after every lake build of that day (none before the first recorded build)."""
    builds = read_jsonl(builds_log(settings)).frame(BUILDS_SCHEMA)
    if builds.is_empty():
        return []
    first = settings.first_partition_date
    built = (
        builds.select(pl.date_ranges("start", "end").alias("day"), "seq")
        .explode("day")
        .group_by("day")
        .agg(pl.col("seq").max().alias("built_seq"))
    )
    landed = (
        manifest.filter(
            (pl.col("seq") > builds["seq"][0])
            & pl.col("source").is_in(list(settings.enabled_sources))
            & pl.col("min_date").is_not_null()
            & (pl.col("max_date") >= first)
            & (pl.col("min_date") <= last_day)
        )
        .select(
            pl.date_ranges(
                pl.max_horizontal("min_date", pl.lit(first)), pl.min_horizontal("max_date", pl.lit(last_day))
            ).alias("day"),
            "seq",
        )
        .explode("day")
        .group_by("day")
        .agg(pl.col("seq").max().alias("landed_seq"))
    )
    late = landed.join(built, on="day", how="left").filter(
        pl.col("built_seq").is_null() | (pl.col("built_seq") < pl.col("landed_seq"))
    )
    return sorted(late["day"].to_list())


def day_runs(days: list[date]) -> list[tuple[date, date]]:
    """Sorted days as runs of consecutive days, [first, last] each: one lake build per run."""
    runs: list[tuple[date, date]] = []
    for day in days:
        if runs and day == runs[-1][1] + timedelta(days=1):
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs
