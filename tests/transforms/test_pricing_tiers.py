"""Service tiers and speed: the row's own tier price when the catalog has one in force, else the standard price."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import polars as pl
import pytest

from transforms.pricing import PRICE_TABLE_SCHEMA, price_context, price_table, price_usage
from transforms.schema import conform


def _row(provider: str, raw: str, day: date, tier: str | None, speed: str | None = None) -> dict[str, object]:
    """One aggregated row of 1M uncached input tokens: its cost is the input price per million."""
    return {
        "source": "openai_usage" if provider == "openai" else "anthropic_usage",
        "provider": provider,
        "model_raw": raw,
        "billing_date": day,
        "context_window": None if provider == "openai" else "0-200k",
        "service_tier": tier,
        "speed": speed,
        "uncached_input_tokens": 1_000_000,
        "cache_read_tokens": 0,
        "cache_write_5m_tokens": 0,
        "cache_write_1h_tokens": 0,
        "output_tokens": 0,
    }


def _cost(rows: list[dict[str, object]]) -> list[Decimal]:
    frame = conform(pl.DataFrame(rows, infer_schema_length=None)).collect()
    return price_usage(frame)["list_cost_usd"].to_list()


def test_price_table_has_a_row_per_tier_the_catalog_prices_differently() -> None:
    table = price_table()
    assert table.schema == PRICE_TABLE_SCHEMA
    variants = table.filter(pl.col("service_tier").is_not_null() | pl.col("speed").is_not_null())
    tiers = {(p, t, s) for p, t, s in variants.select("provider", "service_tier", "speed").unique().iter_rows()}
    assert tiers == {
        ("anthropic", "batch", None),
        ("anthropic", None, "fast"),
        ("openai", "batch", None),
        ("openai", "flex", None),
        ("openai", "priority", None),
        ("openai", "fast", None),
    }
    # each (provider, model, tier, speed) has periods that follow one another without overlap
    key = ("provider", "model", "service_tier", "speed")
    periods = table.sort(*key, "effective_from", nulls_last=False).with_columns(
        next_from=pl.col("effective_from").shift(-1).over(key),
    )
    assert periods.filter(pl.col("next_from").is_not_null() & (pl.col("effective_to") > pl.col("next_from"))).is_empty()
    standard = periods.filter(pl.col("service_tier").is_null() & pl.col("speed").is_null())
    assert standard.filter(pl.col("next_from").is_null())["effective_to"].null_count() == standard["model"].n_unique()
    assert standard.filter(
        pl.col("next_from").is_not_null() & (pl.col("effective_to") != pl.col("next_from"))
    ).is_empty()


@pytest.mark.parametrize(
    ("provider", "raw", "day", "tier", "speed", "cost"),
    [
        # gpt-5: flex and priority prices start 2026-10-12, batch 2026-10-14
        ("openai", "gpt-5-2025-08-07", date(2026, 10, 20), None, None, "1.25"),
        ("openai", "gpt-5-2025-08-07", date(2026, 10, 20), "default", None, "1.25"),
        ("openai", "gpt-5-2025-08-07", date(2026, 10, 20), "flex", None, "0.625"),
        ("openai", "gpt-5-2025-08-07", date(2026, 10, 20), "priority", None, "2.5"),
        ("openai", "gpt-5-2025-08-07", date(2026, 10, 20), "batch", None, "0.625"),
        ("openai", "gpt-5-2025-08-07", date(2026, 10, 13), "batch", None, "1.25"),  # not yet in force
        ("openai", "gpt-5-2025-08-07", date(2026, 10, 1), "flex", None, "1.25"),
        ("openai", "gpt-5-2025-08-07", date(2026, 10, 20), "scale", None, "1.25"),  # a tier the catalog lacks
        # Anthropic: batch from 2026-10-14, fast mode always; no separate priority price
        ("anthropic", "claude-opus-4-8", date(2026, 11, 2), "batch", None, "2.5"),
        ("anthropic", "claude-opus-4-8", date(2026, 11, 2), "priority", None, "5"),
        ("anthropic", "claude-opus-4-8", date(2026, 11, 2), "standard", "fast", "10"),
        ("anthropic", "claude-opus-4-8", date(2026, 5, 2), "batch", "fast", "10"),  # batch not yet priced
        ("anthropic", "claude-opus-4-8", date(2026, 11, 2), "batch", "fast", "2.5"),  # batch wins, as in the catalog
        ("anthropic", "claude-opus-4-6", date(2026, 11, 2), "standard", "fast", "5"),  # no fast price for 4.6
    ],
)
def test_the_row_pays_its_tier_price_in_force(
    provider: str, raw: str, day: date, tier: str | None, speed: str | None, cost: str
) -> None:
    assert _cost([_row(provider, raw, day, tier, speed)]) == [Decimal(cost)]


def test_price_context_speaks_genai_prices_terms() -> None:
    assert price_context(None) is None
    assert price_context("batch") == {"processing": "batch"}
    assert price_context("flex") == {"service_tier": "flex"}
    assert price_context("standard", "fast") == {"service_tier": "standard", "speed": "fast"}


def test_price_table_is_built_once_and_cached() -> None:
    price_table.cache_clear()
    first = price_table()
    assert price_table() is first
    assert price_table.cache_info().misses == 1
