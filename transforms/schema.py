"""The canonical usage record (DESIGN.md, "Canonical usage record") as a Polars schema.

Every source parser returns frames in exactly this schema, so the lake, pricing, attribution and
the warehouse all read one shape. Money is DECIMAL(38,12); prices DECIMAL(18,9).
"""

from __future__ import annotations

import polars as pl

MONEY = pl.Decimal(38, 12)
PRICE = pl.Decimal(18, 9)
UTC_TS = pl.Datetime("us", "UTC")

TOKEN_COLUMNS: tuple[str, ...] = (
    "uncached_input_tokens",
    "cache_read_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "output_tokens",
)

USAGE_SCHEMA: pl.Schema = pl.Schema(
    {
        # dates and provenance
        "billing_date": pl.Date,
        "usage_date": pl.Date,
        "period_start": UTC_TS,
        "period_end": UTC_TS,
        "source": pl.String,
        "provider": pl.String,
        "publisher": pl.String,
        "model": pl.String,
        "model_raw": pl.String,
        # pricing dimensions
        "context_window": pl.String,
        "service_tier": pl.String,
        "inference_geo": pl.String,
        "speed": pl.String,
        # who
        "principal_kind": pl.String,
        "principal_id": pl.String,
        "scope_kind": pl.String,
        "scope_id": pl.String,
        "engineer_id": pl.String,
        # tokens (input columns never overlap; output includes reasoning)
        "uncached_input_tokens": pl.Int64,
        "cache_read_tokens": pl.Int64,
        "cache_write_5m_tokens": pl.Int64,
        "cache_write_1h_tokens": pl.Int64,
        "output_tokens": pl.Int64,
        "reasoning_tokens": pl.Int64,
        "requests": pl.Int64,
        "quantity": MONEY,
        "unit": pl.String,
        # role and charge type
        "spend_role": pl.String,
        "billing_model": pl.String,
        "charge_category": pl.String,
        "charge_class": pl.String,
        # billed lines: the provider's own label, and which token kind the dollars are for
        "line_item": pl.String,
        "token_kind": pl.String,
        # money
        "currency": pl.String,
        "amount_original": MONEY,
        "fx_rate": MONEY,  # units of `currency` per USD: billed_cost_usd = amount_original / fx_rate
        "list_cost_usd": MONEY,
        "billed_cost_usd": MONEY,
        "allocated_cost_usd": MONEY,
        "cost_basis": pl.String,
        "price_version": pl.String,
        "pricing_flag": pl.String,
        # identity and lineage
        "record_id": pl.String,
        "raw_sha256": pl.String,
        "ingested_at": UTC_TS,
    }
)

REJECT_SCHEMA: pl.Schema = pl.Schema(
    {
        "raw_sha256": pl.String,
        "file": pl.String,
        "line": pl.Int64,
        "field": pl.String,
        "reason": pl.String,
    }
)

FILE_STATS_SCHEMA: pl.Schema = pl.Schema(
    {
        "raw_sha256": pl.String,
        "parsed": pl.Int64,
        "loaded": pl.Int64,
        "rejected": pl.Int64,
        "min_date": pl.Date,
        "max_date": pl.Date,
    }
)

TOKEN_KINDS: tuple[str, ...] = ("uncached_input", "cache_read", "cache_write_5m", "cache_write_1h", "output")
SPEND_ROLES: tuple[str, ...] = ("billed", "metered", "observational")


def conform(frame: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """Add any missing canonical columns as typed nulls and order/cast columns to `USAGE_SCHEMA`.

    Parsers build only the columns their source knows; this gives every source the same shape.
    """
    lf = frame.lazy()
    present = set(lf.collect_schema().names())
    return lf.select(
        [
            (pl.col(name) if name in present else pl.lit(None)).cast(dtype).alias(name)
            for name, dtype in USAGE_SCHEMA.items()
        ]
    )
