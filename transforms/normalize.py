"""Canonical shaping of parsed source rows: spend roles, reporting dates and cost basis.

Pure: the caller passes parsed canonical rows and the role map from config; nothing here reads files.
The lake build composes it with the other steps, each its own function: FX conversion
(`transforms.fx.convert_to_usd`), list pricing (`transforms.pricing.price_usage`), seat pricing
(`transforms.seats.price_seats`) and allocation of the bill (`transforms.allocation.allocate`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import polars as pl


def stamp_roles(rows: pl.DataFrame, roles: Mapping[str, str], timezone: str) -> pl.DataFrame:
    """Stamp `spend_role` (from config; unnamed sources are observational), `usage_date` (the reporting time
    zone's day of `period_start`) and `cost_basis`.

    Billed rows keep their provider dollars (`cost_basis = 'billed'`); metered rows start at list cost
    (`'list'`, until allocation places the bill on them); observational rows carry no cost basis: they name
    who used a route but are never summed into spend.
    """
    return rows.with_columns(
        pl.col("source").replace_strict(dict(roles), default="observational").alias("spend_role"),
        pl.col("period_start").dt.convert_time_zone(timezone).dt.date().alias("usage_date"),
    ).with_columns(
        pl.when(pl.col("spend_role") == "billed")
        .then(pl.lit("billed"))
        .when(pl.col("spend_role") == "metered")
        .then(pl.lit("list"))
        .alias("cost_basis"),
    )


def in_window(rows: pl.DataFrame, start: date, end: date) -> pl.DataFrame:
    """Rows whose billing_date falls in [start, end] (both inclusive)."""
    return rows.filter(pl.col("billing_date").is_between(start, end, closed="both"))
