"""Billed dollars onto metered usage: the step that makes spend equal the provider's bill to the cent.

For every provider with a billed source, each billed line is shared over the metered rows of the
same billing day and scope at the finest grain both sources carry (`sql/allocate.sql`), in
proportion to list cost, by the largest-remainder method at scale 12. So per provider, scope and day:

    sum(allocated on metered rows) + unallocated remainder = billed, exactly,

where the remainder is what a billed line could not place on any metered row (`billed_cost_usd -
allocated_cost_usd` of that billed row). Providers without a billed source keep list cost, and so do
metered rows of a day whose bill has not arrived yet (provisional; the rerun after it lands replaces them).
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.resources import files

import polars as pl

from transforms.common import connect
from transforms.money import install_money_macros


def allocate(rows: pl.DataFrame, billed_providers: Sequence[str]) -> pl.DataFrame:
    """Set `allocated_cost_usd` and `cost_basis` on a window's canonical rows (all sources, whole days).

    Metered rows of a billed provider on a day with billed rows get the billed dollars placed on them
    (`cost_basis = 'allocated'`, zero when no billed line covers them); billed rows record how much of
    them was placed. Other metered rows keep `cost_basis = 'list'`. Row order is preserved.
    """
    billed = pl.col("spend_role") == "billed"
    if rows.height == 0 or not rows.select(billed.any()).item():
        # no bill: every row keeps its cost and basis
        return rows.with_columns(pl.col("allocated_cost_usd").cast(pl.Decimal(38, 12)))
    indexed = rows.with_row_index("_row")
    # only billed and metered rows take part, and only the columns the SQL reads travel to it
    usage_rows = indexed.filter(pl.col("spend_role").is_in(["billed", "metered"])).select(  # noqa: F841
        "_row", *_ALLOCATION_INPUTS
    )
    con = connect()
    install_money_macros(con)
    sql = files("transforms").joinpath("sql/allocate.sql").read_text()
    placed = con.sql(sql, params={"billed_providers": list(billed_providers)}).pl()
    billed_days = (
        rows.filter(pl.col("spend_role") == "billed")
        .select("provider", "billing_date")
        .unique()
        .with_columns(pl.lit(True).alias("_billed_day"))
    )
    billed_provider = (
        pl.col("provider").is_in(list(billed_providers))
        & pl.col("_billed_day").fill_null(False)
        & (pl.col("billing_model") != "seat").fill_null(True)
    )
    covered = (pl.col("spend_role") == "billed") | ((pl.col("spend_role") == "metered") & billed_provider)
    return (
        indexed.join(placed.rename({"allocated_cost_usd": "_placed"}), on="_row", how="left")
        .join(billed_days, on=["provider", "billing_date"], how="left")
        .sort("_row")
        .with_columns(
            pl.when(covered)
            .then(pl.col("_placed").fill_null(pl.lit(0, dtype=pl.Decimal(38, 12))))
            .otherwise(pl.col("allocated_cost_usd"))
            .cast(pl.Decimal(38, 12))
            .alias("allocated_cost_usd"),
            pl.when((pl.col("spend_role") == "metered") & billed_provider)
            .then(pl.lit("allocated"))
            .otherwise(pl.col("cost_basis"))
            .alias("cost_basis"),
        )
        .select(rows.columns)
    )


# The columns sql/allocate.sql reads.
_ALLOCATION_INPUTS: tuple[str, ...] = (
    "spend_role",
    "provider",
    "billing_date",
    "scope_kind",
    "scope_id",
    "model",
    "token_kind",
    "context_window",
    "service_tier",
    "billing_model",
    "billed_cost_usd",
    "list_cost_usd",
    "uncached_input_tokens",
    "cache_read_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "output_tokens",
)
