"""Subscription seats (Claude Team/Max, Copilot, Cursor): priced from `seat_prices`, pro-rated per day.

DESIGN.md, "Subscription seats": seat rows are never list-priced as tokens. A seat costs its plan's
price, spread over the days it is held, so that one seat held every day of a calendar month costs
exactly the monthly price, to the unit of 1e-12 USD (`sql/price_seats.sql`).

Contract for a seat row, which each seat source (Cursor, GitHub Copilot, Claude Team/Max) emits:

- a canonical row (`transforms.schema.USAGE_SCHEMA`) with `billing_model = 'seat'`;
- `provider`: who bills the seat, e.g. 'cursor', 'github_copilot', 'anthropic';
- `line_item`: the plan name, matched exactly against `seat_prices.plan` (with `provider`);
- `quantity`: seats held that day, DECIMAL(38,12), usually 1; `unit = 'seat'`;
- `billing_date`: the day the seats were held; principal and engineer as for any other row;
- token columns null.

Pricing (`price_seats`): the price in force is the `seat_prices` row of the same provider and plan whose
[valid_from, valid_to) holds the billing date (null valid_from = since always, null valid_to = open; if
rows overlap, the latest valid_from wins). A monthly price, in units of 1e-12 USD, is split over the
month's days by the largest-remainder method (the earliest days get the extra unit); a yearly price is
first split over its 12 calendar months the same way (January first), then each month over its days.
`list_cost_usd` = quantity × that day's amount (exact for whole seats; a fractional quantity rounds half
away from zero at 1e-12). A seat row with no price in force (or no quantity) is flagged
`pricing_flag = 'unpriced'` with a null cost, never $0.
"""

from __future__ import annotations

from importlib.resources import files

import polars as pl

from transforms.common import connect
from transforms.money import install_money_macros

PRICE_VERSION = "seat_prices"
SEAT = "seat"
PERIODS: tuple[str, ...] = ("month", "year")
# The `seat_prices` reference kind (pipelines/services/reference.py), as this module reads it.
SEAT_PRICES_SCHEMA: pl.Schema = pl.Schema(
    {
        "provider": pl.String,
        "plan": pl.String,
        "price_usd": pl.String,  # exact decimal text, at most 12 decimals
        "period": pl.String,
        "valid_from": pl.Date,
        "valid_to": pl.Date,
    }
)
_PRICE_TEXT = r"^\d+(\.\d{1,12})?$"


class SeatPriceError(ValueError):
    """A `seat_prices` row that cannot price a seat exactly (bad price text or period)."""


def seat_price_table(seat_prices: pl.DataFrame) -> pl.DataFrame:
    """The seat price list in its reference schema, checked so that every price is exact and every period known.

    Raises `SeatPriceError` naming the first bad row rather than pricing seats from a misread price.
    """
    missing = [c for c in SEAT_PRICES_SCHEMA.names() if c not in seat_prices.columns]
    if missing:
        raise SeatPriceError(f"seat_prices: missing column {missing[0]!r}")
    table = seat_prices.select(SEAT_PRICES_SCHEMA.names()).cast(dict(SEAT_PRICES_SCHEMA))  # type: ignore[arg-type]
    bad = table.with_row_index("_index").filter(
        pl.col("provider").is_null()
        | pl.col("plan").is_null()
        | ~pl.col("period").is_in(PERIODS).fill_null(False)
        | ~pl.col("price_usd").str.contains(_PRICE_TEXT).fill_null(False)
    )
    if bad.height:
        row = bad.row(0, named=True)
        raise SeatPriceError(
            f"seat_prices row {row['_index']}: provider={row['provider']!r} plan={row['plan']!r} "
            f"price_usd={row['price_usd']!r} period={row['period']!r}: expected a decimal price with at most "
            f"12 decimals and a period of {' or '.join(PERIODS)}"
        )
    return table


def price_seats(rows: pl.DataFrame, seat_prices: pl.DataFrame) -> pl.DataFrame:
    """Set the list cost of subscription seat rows: what the seats held that day cost the company.

    Seat rows (`billing_model = 'seat'`) get `list_cost_usd` = quantity × the plan's pro-rated day amount
    and `price_version = 'seat_prices'`, or `pricing_flag = 'unpriced'` and a null cost when no price is in
    force. `cost_basis` is left as the caller set it; every other row passes through untouched. Row order
    and schema are preserved.
    """
    is_seat = (pl.col("billing_model") == SEAT).fill_null(False)
    if rows.height == 0 or not rows.select(is_seat.any()).item():
        return rows
    table = seat_price_table(seat_prices)
    indexed = rows.with_row_index("_row")
    seat_rows = indexed.filter(is_seat).select("_row", "provider", "line_item", "billing_date", "quantity")
    con = connect()
    install_money_macros(con)
    con.register("seat_rows", seat_rows)
    con.register("seat_prices", table)
    sql = files("transforms").joinpath("sql/price_seats.sql").read_text()
    costs = con.sql(sql).pl().rename({"list_cost_usd": "_seat_cost"})
    priced = is_seat & pl.col("_seat_cost").is_not_null()
    return (
        indexed.join(costs, on="_row", how="left")
        .sort("_row")
        .with_columns(
            pl.when(is_seat)
            .then(pl.col("_seat_cost"))
            .otherwise(pl.col("list_cost_usd"))
            .cast(rows.schema["list_cost_usd"])
            .alias("list_cost_usd"),
            pl.when(priced)
            .then(pl.lit(PRICE_VERSION))
            .when(is_seat)
            .then(pl.lit(None, dtype=pl.String))
            .otherwise(pl.col("price_version"))
            .alias("price_version"),
            pl.when(priced)
            .then(pl.lit(None, dtype=pl.String))
            .when(is_seat)
            .then(pl.lit("unpriced"))
            .otherwise(pl.col("pricing_flag"))
            .alias("pricing_flag"),
        )
        .select(rows.columns)
        .cast(dict(rows.schema))  # type: ignore[arg-type]
    )
