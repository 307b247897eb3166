"""From parsed source rows to lake rows: spend roles, reporting dates, cost basis and list price.

Pure: the caller passes parsed canonical rows and the role map from config; nothing here reads files.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import polars as pl

from transforms.allocation import allocate
from transforms.fx import FX_RATES_SCHEMA, convert_to_usd
from transforms.pricing import price_usage
from transforms.schema import USAGE_SCHEMA
from transforms.seats import price_seats


def canonicalize(
    rows: pl.DataFrame,
    roles: Mapping[str, str],
    timezone: str,
    billed_providers: Sequence[str],
    seat_prices: pl.DataFrame | None = None,
    price_overrides: pl.DataFrame | None = None,
    fx_rates: pl.DataFrame | None = None,
    max_rate_age_days: int = 7,
) -> pl.DataFrame:
    """Stamp `spend_role`, `usage_date` (reporting time zone) and `cost_basis`, list-price, then allocate.

    Billed rows keep their provider dollars (`cost_basis = 'billed'`); metered rows get the billed
    dollars allocated onto them (`transforms.allocation`), or stay at list cost where no bill exists;
    observational rows carry a list cost for attribution but are never summed into spend. With
    `seat_prices`, subscription seat rows are priced per day from it (`transforms.seats`) before allocation;
    `price_overrides` (negotiated prices, corrections, models the catalog lacks) apply on top of the catalog.
    Billed money in another currency is converted to USD first, at the billing day's rate from `fx_rates`
    (`transforms.fx`); a non-USD amount with no rate raises `MissingFxRateError`, so nothing is written.
    """
    if rows.height == 0:
        return USAGE_SCHEMA.to_frame()
    rows = convert_to_usd(rows, fx_rates if fx_rates is not None else FX_RATES_SCHEMA.to_frame(), max_rate_age_days)
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
    priced = price_usage(staged, price_overrides)
    if seat_prices is not None:
        priced = price_seats(priced, seat_prices)
    return allocate(priced, billed_providers)


def in_window(rows: pl.DataFrame, start: date, end: date) -> pl.DataFrame:
    """Rows whose billing_date falls in [start, end] (both inclusive)."""
    return rows.filter(pl.col("billing_date").is_between(start, end, closed="both"))
