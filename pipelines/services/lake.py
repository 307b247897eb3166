"""raw/ + manifest → lake/usage, one hive partition per billing_date, each replaced atomically.

A window of days is rebuilt from every delivery whose dates overlap it, so rerunning a day gives the
same bytes, and a corrected re-delivery replaces the rows it corrects (latest in manifest order wins).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from pipelines.config import Settings
from pipelines.services.ingest import parsing, raw_files, read_manifest
from pipelines.services.late import record_build
from pipelines.services.reference import reference_frame
from transforms.allocation import allocate
from transforms.common import (
    ParseResult,
    engine_limits,
    inflate_limits,
    parsed_lines,
    read_rows,
    rows_on_disk,
    scratch_dir,
    strictly_sorted,
)
from transforms.fx import convert_to_usd
from transforms.normalize import stamp_roles
from transforms.pricing import default_overrides, load_overrides, price_usage
from transforms.schema import USAGE_SCHEMA
from transforms.seats import price_seats
from transforms.sources import is_source, parse

PARTITION_COLUMN = "billing_date"
# Canonical rows built at once, at most, and the memory a row is weighed at against `[duckdb] memory_limit`.
CHUNK_ROWS = 250_000
CHUNK_ROW_BYTES = 2048
# The order of the rows in a partition file.
WRITE_ORDER: tuple[str, ...] = (PARTITION_COLUMN, "source", "record_id")


@dataclass
class LakeReport:
    """What a lake build did: rows written per source and role, partitions touched, lines rejected."""

    start: date
    end: date
    rows_by_source: dict[str, int] = field(default_factory=dict)
    partitions_written: int = 0
    partitions_removed: int = 0
    rejected_lines: int = 0
    unpriced_rows: int = 0

    @property
    def rows(self) -> int:
        """Total canonical rows written for the window."""
        return sum(self.rows_by_source.values())


@dataclass(frozen=True)
class Prices:
    """What a lake build prices with, read once per run so every chunk of a backfill uses the same book:
    the price overrides (or the packaged default), `seat_prices` and `fx_rates`."""

    overrides: pl.DataFrame
    seat_prices: pl.DataFrame
    fx_rates: pl.DataFrame

    @classmethod
    def read(cls, settings: Settings) -> Prices:
        """Read the configured overrides file and the stored seat prices and FX rates."""
        return cls(
            overrides=load_overrides(settings.price_overrides) if settings.price_overrides else default_overrides(),
            seat_prices=reference_frame(settings, "seat_prices"),
            fx_rates=reference_frame(settings, "fx_rates"),
        )


def lake_rows(rows: pl.DataFrame, settings: Settings, prices: Prices) -> pl.DataFrame:
    """Parsed rows of whole billing days → lake rows: billed money in USD, spend roles, list prices, seat
    prices, then each provider's bill allocated onto its metered rows."""
    if rows.height == 0:
        return USAGE_SCHEMA.to_frame()
    roles = {s: settings.role_of(s) for s in settings.enabled_sources}
    usd = convert_to_usd(rows, prices.fx_rates, settings.fx_max_rate_age_days)
    staged = stamp_roles(usd, roles, settings.timezone)
    priced = price_seats(price_usage(staged, prices.overrides), prices.seat_prices)
    return allocate(priced, settings.billed_providers)


class ZoneChanged(ValueError):
    """pipeline.timezone differs from the zone the lake was built in (DESIGN: fixed after the first build)."""


def _zone_file(settings: Settings) -> Path:
    return settings.lake / "_zone.json"


def recorded_zone(settings: Settings) -> tuple[str | None, bool]:
    """The reporting time zone the lake was built in (None before the first build), and whether a
    rebuild into it was started and has not finished."""
    path = _zone_file(settings)
    if not path.exists():
        return None, False
    record = json.loads(path.read_text())
    return str(record["timezone"]), bool(record.get("rebuilding", False))


def record_zone(settings: Settings, *, rebuilding: bool = False) -> None:
    """Record `pipeline.timezone` as the lake's zone (atomically); `rebuilding` while a rebuild runs."""
    path = _zone_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    record: dict[str, object] = {"timezone": settings.timezone}
    if rebuilding:
        record["rebuilding"] = True
    tmp.write_text(json.dumps(record, sort_keys=True) + "\n")
    os.replace(tmp, path)


def check_zone(settings: Settings, *, rebuild: bool = False) -> None:
    """Refuse to build when the configured zone is not the lake's: a lake in two zones is wrong.

    An unfinished rebuild is refused too. `rebuild` (a whole-lake rebuild was asked for) allows both.
    """
    zone, rebuilding = recorded_zone(settings)
    if rebuild:
        return
    if zone is not None and zone != settings.timezone:
        raise ZoneChanged(
            f"pipeline.timezone is {settings.timezone} but the lake was built in {zone}; the zone is fixed after "
            f"the first build: set it back, or rebuild the whole lake with `tokencomp run --rebuild`"
        )
    if rebuilding:
        raise ZoneChanged(f"a rebuild of the lake into {zone} did not finish; rerun `tokencomp run --rebuild`")


def usage_dir(settings: Settings) -> Path:
    """The canonical usage table's folder in the lake."""
    return settings.lake / "usage"


def partition_path(settings: Settings, day: date) -> Path:
    """The one Parquet file of a billing day."""
    return usage_dir(settings) / f"{PARTITION_COLUMN}={day.isoformat()}" / "part-0.parquet"


def lake_files(settings: Settings) -> list[Path]:
    """Every readable lake partition file (scratch `_`/`.` folders excluded)."""
    return sorted(usage_dir(settings).glob(f"{PARTITION_COLUMN}=*/part-0.parquet"))


def window_rows(settings: Settings, start: date, end: date) -> dict[date, int]:
    """Rows of each billing day in [start, end] as the lake holds them (0 for a day with no partition)."""
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    return {
        day: pl.scan_parquet(path).select(pl.len()).collect().item()
        if (path := partition_path(settings, day)).exists()
        else 0
        for day in days
    }


def window_summary(settings: Settings, start: date, end: date) -> pl.DataFrame:
    """What the lake holds for billing days [start, end], per source: rows, list cost and billed cost (exact
    decimals), read back from the written partitions."""
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    files = [str(path) for path in (partition_path(settings, day) for day in days) if path.exists()]
    frame = pl.scan_parquet(files) if files else USAGE_SCHEMA.to_frame().lazy()
    return (
        frame.group_by("source")
        .agg(
            pl.len().alias("rows"),
            pl.col("list_cost_usd").sum().alias("list_cost_usd"),
            pl.col("billed_cost_usd").sum().alias("billed_cost_usd"),
        )
        .sort("source")
        .collect()
    )


def parse_window(settings: Settings, start: date, end: date, manifest: pl.DataFrame) -> dict[str, ParseResult]:
    """Parse every enabled source's deliveries in `manifest` (raw/'s, read once by the build) that overlap
    [start, end]."""
    overlapping = manifest.filter((pl.col("min_date") <= end) & (pl.col("max_date") >= start))
    results: dict[str, ParseResult] = {}
    with inflate_limits(parsing(settings)), parsed_lines(settings.parsed_lines):  # lines ingest kept: no re-parse
        for source in settings.enabled_sources:
            deliveries = overlapping.filter(pl.col("source") == source)
            if is_source(source) and deliveries.height:
                results[source] = parse(source, raw_files(settings, deliveries))
    return results


def chunk_rows() -> int:
    """Canonical rows built and written at once, at most (a single larger day is a chunk of its own); a
    smaller DuckDB memory limit lowers it."""
    return max(1, min(CHUNK_ROWS, engine_limits().memory_limit // CHUNK_ROW_BYTES))


def plan_chunks(rows_per_day: dict[date, int], start: date, end: date, limit: int) -> list[tuple[date, date]]:
    """Consecutive groups of whole days covering [start, end], each holding at most `limit` rows (a day
    above it alone): the lake is built a group at a time, so memory follows `limit`, not the window."""
    chunks: list[tuple[date, date]] = []
    first, size, day = start, 0, start
    while day <= end:
        count = rows_per_day.get(day, 0)
        if size and size + count > limit:
            chunks.append((first, day - timedelta(days=1)))
            first, size = day, 0
        size += count
        day += timedelta(days=1)
    chunks.append((first, end))
    return chunks


def _rows_per_day(parsed: dict[str, ParseResult]) -> dict[date, int]:
    counts: dict[date, int] = {}
    for result in parsed.values():
        frame = pl.scan_parquet(list(result.row_files)) if result.row_files else result.rows.lazy()
        for day, count in frame.group_by("billing_date").len().collect().iter_rows():
            counts[day] = counts.get(day, 0) + count
    return counts


def build_window(
    settings: Settings, start: date, end: date, progress: Callable[[int, int], None] | None = None
) -> LakeReport:
    """Rebuild lake/usage for every billing day in [start, end] (inclusive) and report what changed.

    Every delivery overlapping the window is parsed once, and the line readers leave their merged rows on
    disk. The days are then built in groups of whole days of at most `chunk_rows()` rows (a backfill of
    years as much as a single night), so memory follows that bound, not the window. Every day is built
    from all of its deliveries at once. `progress(days_done, days_total)` is called after each group.
    """
    zone, rebuilding = recorded_zone(settings)
    if not rebuilding:  # a rebuild records its new zone first; otherwise the zone must be the lake's
        check_zone(settings)
    if zone is None:
        record_zone(settings)  # the first build fixes the zone (a lake from before the record adopts it)
    report = LakeReport(start, end)
    prices = Prices.read(settings)
    total = (end - start).days + 1
    with inflate_limits(parsing(settings)), scratch_dir() as spill, rows_on_disk(spill):
        manifest = read_manifest(settings)
        parsed = parse_window(settings, start, end, manifest)
        # bad lines are counted once, for the window their delivery's first day is in
        report.rejected_lines += sum(
            r.rejects.join(r.stats.filter(pl.col("min_date") >= start), on="raw_sha256", how="semi").height
            for r in parsed.values()
        )
        for chunk_start, chunk_end in plan_chunks(_rows_per_day(parsed), start, end, chunk_rows()):
            frames = [read_rows(r, chunk_start, chunk_end) for r in parsed.values()]
            rows = pl.concat(frames) if frames else USAGE_SCHEMA.to_frame()
            write_days(settings, lake_rows(rows, settings, prices), chunk_start, chunk_end, report)
            if progress is not None:
                progress((chunk_end - start).days + 1, total)
    # every delivery the build read is in: a later one for these days makes them late (services/late.py)
    record_build(settings, start, end, int(manifest["seq"].max() or 0) if manifest.height else 0)
    return report


def write_days(settings: Settings, built: pl.DataFrame, start: date, end: date, report: LakeReport) -> None:
    """Replace the partition of every billing day in [start, end] by its rows of `built` (lake rows of
    whole days), each atomically; a day with no row loses its partition. Counts go into `report`."""
    for source, count in built.group_by("source").len().iter_rows():
        report.rows_by_source[source] = report.rows_by_source.get(source, 0) + count
    report.rows_by_source = dict(sorted(report.rows_by_source.items()))
    report.unpriced_rows += built.filter(pl.col("pricing_flag") == "unpriced").height
    # the rows of one source arrive in this order already (read_rows): sorting them again copies every column
    ordered = built if strictly_sorted(built, WRITE_ORDER) else built.sort(*WRITE_ORDER)
    by_day: dict[date, pl.DataFrame] = {}
    offset = 0
    for length, day in ordered.get_column(PARTITION_COLUMN).rle().struct.unnest().iter_rows():
        by_day[day] = ordered.slice(offset, length)  # a day's rows are one run: a slice, not a copy
        offset += length
    staging = usage_dir(settings) / "_staging"
    staging.mkdir(parents=True, exist_ok=True)
    day = start
    while day <= end:
        target = partition_path(settings, day)
        frame = by_day.get(day)
        if frame is None:
            if target.parent.exists():
                shutil.rmtree(target.parent)
                report.partitions_removed += 1
        else:
            tmp = staging / f"{day.isoformat()}.parquet"
            frame.drop(PARTITION_COLUMN).rechunk().write_parquet(tmp, compression="zstd", statistics=True)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, target)
            report.partitions_written += 1
        day += timedelta(days=1)
    shutil.rmtree(staging, ignore_errors=True)


def read_lake(settings: Settings) -> pl.LazyFrame:
    """Scan the whole lake as canonical rows (billing_date restored from the hive path)."""
    files = lake_files(settings)
    if not files:
        return USAGE_SCHEMA.to_frame().lazy()
    return pl.scan_parquet(
        [str(f) for f in files],
        hive_partitioning=True,
        hive_schema={PARTITION_COLUMN: pl.Date},
    ).select(USAGE_SCHEMA.names())
