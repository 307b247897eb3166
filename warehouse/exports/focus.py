"""The month's AI spend as a FOCUS 1.2 cost and usage dataset (FinOps Foundation), from `mart.focus`.

FinOps tools that speak FOCUS read this file as they read a cloud provider's own FOCUS export. Every
column and why it holds what it holds: docs/focus.md. BilledCost sums to `core.fct_spend` for the month
exactly; money stays DECIMAL(38,12) in Parquet and is written as its exact decimal text in CSV.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from warehouse.build import sql_text

FORMATS: tuple[str, ...] = ("csv", "parquet")
# FOCUS 1.2 date/time format: ISO 8601 in UTC with a Z suffix
FOCUS_DATETIME = "%Y-%m-%dT%H:%M:%SZ"
TIMESTAMP_COLUMNS: tuple[str, ...] = (
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargePeriodStart",
    "ChargePeriodEnd",
)


def focus_frame(con: duckdb.DuckDBPyConnection, month: date) -> pl.DataFrame:
    """The FOCUS rows of one billing month (`month` is any day of it), timestamps in UTC."""
    first = month.replace(day=1)
    frame = con.sql(sql_text("exports/focus"), params={"month": first}).pl()
    return frame.with_columns(pl.col(c).dt.convert_time_zone("UTC") for c in TIMESTAMP_COLUMNS)


def write_focus(frame: pl.DataFrame, out: Path, fmt: str) -> Path:
    """Write a FOCUS frame to `out` as `csv` or `parquet` (parents created) and return the path."""
    if fmt not in FORMATS:
        raise ValueError(f"FOCUS export format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        frame.write_parquet(out)
    else:
        frame.write_csv(out, datetime_format=FOCUS_DATETIME)
    return out
