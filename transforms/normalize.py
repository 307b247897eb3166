"""From parsed source rows to lake rows: spend roles, reporting dates, cost basis and list price.

Pure: the caller passes parsed canonical rows and the role map from config; nothing here reads files.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import polars as pl

from transforms.pricing import price_usage
from transforms.schema import USAGE_SCHEMA


def canonicalize(rows: pl.DataFrame, roles: Mapping[str, str], timezone: str) -> pl.DataFrame:
    """Stamp `spend_role`, `usage_date` (in the reporting time zone) and `cost_basis`, then list-price.

    Billed rows keep their provider dollars (`cost_basis = 'billed'`); metered rows are spend at list
    cost until the cost engine (#3) allocates billed dollars onto them; observational rows carry a
    list cost for attribution but are never summed into spend.
    """
    if rows.height == 0:
        return USAGE_SCHEMA.to_frame()
    staged = rows.with_columns(
        pl.col("source").replace_strict(dict(roles), default="observational").alias("spend_role"),
        pl.col("period_start").dt.convert_time_zone(timezone).dt.date().alias("usage_date"),
    ).with_columns(
        pl.when(pl.col("spend_role") == "billed")
        .then(pl.lit("billed"))
        .when(pl.col("spend_role") == "metered")
        .then(pl.lit("list"))
        .alias("cost_basis"),
    )
    return price_usage(staged)


def in_window(rows: pl.DataFrame, start: date, end: date) -> pl.DataFrame:
    """Rows whose billing_date falls in [start, end] (both inclusive)."""
    return rows.filter(pl.col("billing_date").is_between(start, end, closed="both"))
