"""Foreign exchange: non-USD billed money to USD at the billing day's rate, and ECB cross rates.

A rate is in units of the currency per USD (`fx_rates.units_per_usd`, the canonical `fx_rate`), so
`billed_cost_usd = amount_original / fx_rate`. The rate of a billing day is the latest one of its
currency on or before that day, at most `max_age_days` old, so weekends and holidays (no reference
rate published) use the last business day's. Division is exact integer arithmetic in units of 1e-12,
rounded once at 12 places, half away from zero (`money_div` in `sql/money_macros.sql`); never through a binary float.

A non-USD amount with no rate young enough is a blocking error (DESIGN, "Money rules"): the caller gets
`MissingFxRateError` naming the currency and the day, never a NULL in spend.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from importlib.resources import files

import duckdb
import polars as pl

from transforms.common import connect
from transforms.money import install_money_macros
from transforms.schema import MONEY

FX_RATES_SCHEMA = pl.Schema({"date": pl.Date, "currency": pl.String, "units_per_usd": MONEY})
# Rates outside this range are refused on load: real currencies sit well inside it (the Kuwaiti dinar,
# the strongest, is about 0.31 per USD), and the bounds keep conversion inside the money range.
MIN_UNITS_PER_USD = Decimal("0.01")
MAX_UNITS_PER_USD = Decimal(1_000_000_000)


class MissingFxRateError(ValueError):
    """Non-USD billed money on a day with no usable rate; `check` names the blocking check."""

    check = "fx_rates"

    def __init__(
        self,
        currency: str,
        day: date,
        latest: date | None,
        max_age_days: int,
        lines: int,
        first: dict[str, str | None] | None = None,
    ) -> None:
        self.currency = currency
        self.day = day
        self.latest = latest
        self.lines = lines
        self.first = first or {}  # the first line lacking a rate: its source, raw_sha256 and record_id
        have = f"the latest {currency} rate is from {latest}" if latest else f"fx_rates has no {currency} rate"
        more = f" ({lines} billed lines in all lack a rate)" if lines > 1 else ""
        super().__init__(
            f"no {currency} exchange rate for {day}: {have}, and a rate may be at most {max_age_days} days old "
            f"(fx.max_rate_age_days){more}; load one with `tokencomp reference load fx_rates PATH` and rerun"
        )


def _sql(name: str) -> str:
    return files("transforms").joinpath(f"sql/{name}.sql").read_text()


def _connect() -> duckdb.DuckDBPyConnection:
    con = connect()
    install_money_macros(con)
    return con


def convert_to_usd(rows: pl.DataFrame, fx_rates: pl.DataFrame, max_age_days: int) -> pl.DataFrame:
    """Set `fx_rate` and `billed_cost_usd` on rows with a non-USD amount and no rate of their own.

    Rows in USD, rows without an amount and rows whose source gave its own rate pass through untouched;
    row order and schema are preserved. Raises `MissingFxRateError` for the first (day, currency) in
    order without a rate at most `max_age_days` old.
    """
    needs = (
        pl.col("currency").is_not_null()
        & (pl.col("currency") != "USD")
        & pl.col("amount_original").is_not_null()
        & pl.col("fx_rate").is_null()
    )
    if rows.height == 0 or not rows.select(needs.any()).item():
        return rows
    indexed = rows.with_row_index("_row")
    money_rows = indexed.filter(needs).select("_row", "billing_date", "currency", "amount_original")
    con = _connect()
    con.register("money_rows", money_rows)
    con.register("fx_rates", fx_rates.select(FX_RATES_SCHEMA.names()).cast(dict(FX_RATES_SCHEMA)))  # type: ignore[arg-type]
    converted = con.sql(_sql("fx_convert"), params={"max_age_days": max_age_days}).pl()
    missing = converted.filter(pl.col("fx_rate").is_null()).sort("billing_date", "currency", "_row")
    if missing.height:
        first = missing.row(0, named=True)
        lineage = indexed.filter(pl.col("_row") == first["_row"]).select(
            c for c in ("source", "raw_sha256", "record_id") if c in rows.columns
        )
        raise MissingFxRateError(
            first["currency"],
            first["billing_date"],
            first["rate_date"],
            max_age_days,
            missing.height,
            lineage.row(0, named=True) if lineage.height else None,
        )
    return (
        indexed.join(
            converted.select("_row", pl.col("fx_rate").alias("_rate"), pl.col("billed_cost_usd").alias("_usd")),
            on="_row",
            how="left",
        )
        .sort("_row")
        .with_columns(
            pl.coalesce("_rate", "fx_rate").cast(MONEY).alias("fx_rate"),
            pl.coalesce("_usd", "billed_cost_usd").cast(MONEY).alias("billed_cost_usd"),
        )
        .select(rows.columns)
    )


def cross_rates(ecb_rates: pl.DataFrame) -> pl.DataFrame:
    """Rates per USD from EUR-based reference rates (`date, currency, per_eur`, USD among the currencies).

    EUR per USD = 1 / (USD per EUR); X per USD = (X per EUR) / (USD per EUR), each exact and rounded once
    at 12 places, half away from zero. Returns `FX_RATES_SCHEMA` rows ordered by date and currency.
    """
    con = _connect()
    con.register("ecb_rates", ecb_rates.cast({"per_eur": MONEY}))
    return con.sql(_sql("fx_cross_rates")).pl().cast(dict(FX_RATES_SCHEMA))  # type: ignore[arg-type]
