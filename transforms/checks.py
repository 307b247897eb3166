"""Data checks that need no orchestration: negative token counts in pages as delivered, and each source's
daily row counts against their trailing median. The pipeline's asset checks (pipelines/defs/checks.py) call
these on the run's days."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from importlib.resources import files

import polars as pl

from transforms.common import RawFile, connect, file_index, plain_text_paths

NEGATIVE_TOKENS_SCHEMA = pl.Schema(
    {"file": pl.String, "raw_sha256": pl.String, "line": pl.Int64, "field": pl.String, "value": pl.String}
)
ROW_COUNT_SCHEMA = pl.Schema(
    {"source": pl.String, "billing_date": pl.Date, "rows": pl.Int64, "median": pl.Float64, "history_days": pl.Int64}
)
# A day is compared with its trailing median only when at least this many earlier same weekdays had rows.
MIN_HISTORY_DAYS = 2


def negative_token_fields(pages: Sequence[RawFile]) -> pl.DataFrame:
    """Every negative token count in `pages` (JSON API pages), read from their text before any parser: the
    delivery's name and sha256, the line of the file, the field and its value (NEGATIVE_TOKENS_SCHEMA)."""
    if not pages:
        return NEGATIVE_TOKENS_SCHEMA.to_frame()
    sql = files("transforms").joinpath("sql/negative_tokens.sql").read_text()
    with plain_text_paths(pages) as paths:
        found = connect().sql(sql, params={"paths": paths}).pl()
        index = file_index(pages, paths).select("filename", "raw_sha256", "file")
    return (
        found.join(index, on="filename", how="left")
        .select(NEGATIVE_TOKENS_SCHEMA.names())
        .cast(dict(NEGATIVE_TOKENS_SCHEMA))  # type: ignore[arg-type]
        .sort("file", "line", "field")
    )


def row_count_anomalies(
    counts: pl.DataFrame, start: date, end: date, weeks: int, tolerance: float, min_rows: int = 0
) -> pl.DataFrame:
    """The (source, billing day) pairs of [start, end] whose row count is more than `tolerance` (a share) above
    or below the median of the same source's counts on the same weekday of the `weeks` weeks before (days with
    rows only; at least MIN_HISTORY_DAYS of them): usage has a weekly rhythm, so a quiet Sunday is compared with
    Sundays, not with a busy week. A median below `min_rows` is too small to compare (a handful of rows swings
    by half from one week to the next). `counts` holds `source, billing_date, rows` for the days with rows; a day of
    the window without rows counts 0, so a source that stopped delivering shows up."""
    counts = counts.select("source", "billing_date", pl.col("rows").cast(pl.Int64))
    days = pl.DataFrame({"billing_date": pl.date_range(start, end, eager=True)})
    grid = (
        counts.select("source")
        .unique()
        .join(days, how="cross")
        .join(counts, on=["source", "billing_date"], how="left")
        .with_columns(pl.col("rows").fill_null(0))
    )
    history = (
        grid.join(counts.rename({"billing_date": "earlier", "rows": "earlier_rows"}), on="source")
        .filter(
            (pl.col("earlier") < pl.col("billing_date"))
            & (pl.col("earlier") >= pl.col("billing_date") - pl.duration(weeks=weeks))
            & (pl.col("earlier").dt.weekday() == pl.col("billing_date").dt.weekday())
        )
        .group_by("source", "billing_date")
        .agg(pl.col("earlier_rows").median().alias("median"), pl.len().cast(pl.Int64).alias("history_days"))
    )
    return (
        grid.join(history, on=["source", "billing_date"])
        .filter((pl.col("history_days") >= MIN_HISTORY_DAYS) & (pl.col("median") >= min_rows))
        .filter(
            (pl.col("rows") < pl.col("median") * (1 - tolerance))
            | (pl.col("rows") > pl.col("median") * (1 + tolerance))
        )
        .select(ROW_COUNT_SCHEMA.names())
        .cast(dict(ROW_COUNT_SCHEMA))  # type: ignore[arg-type]
        .sort("billing_date", "source")
    )
