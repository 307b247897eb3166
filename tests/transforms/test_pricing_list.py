"""List pricing by a vectorized join equals genai-prices, per request tier, never $0 for unknown models."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import genai_price
from transforms.pricing import PRICE_VERSION, price_table, price_usage
from transforms.schema import USAGE_SCHEMA, conform

Q = Decimal("0.000000000001")


def _rows(records: list[dict[str, object]]) -> pl.DataFrame:
    base = {
        "billing_model": "metered_tokens",
        "cache_write_1h_tokens": 0,
        "cache_read_tokens": 0,
        "cache_write_5m_tokens": 0,
        "output_tokens": 0,
        "uncached_input_tokens": 0,
    }
    return conform(pl.DataFrame([{**base, **r} for r in records], infer_schema_length=None)).collect()


def _reference(provider: str, model: str, day: date, u: int, cr: int, w5: int, w1: int, out: int) -> Decimal:
    return genai_price(provider, model, datetime(day.year, day.month, day.day, 12, tzinfo=UTC), (u, cr, w5, w1, out))


def test_price_table_is_effective_dated_and_versioned() -> None:
    table = price_table().filter(pl.col("service_tier").is_null() & pl.col("speed").is_null())
    opus = table.filter(pl.col("model") == "claude-opus-4-6").sort("effective_from")
    assert opus["effective_to"].to_list()[0] == date(2026, 3, 13)
    assert opus["effective_from"].to_list()[1] == date(2026, 3, 13)
    sonnet = table.filter(pl.col("model") == "claude-sonnet-4-5").row(0, named=True)
    assert sonnet["uncached_input_mtok"] == Decimal("3") and sonnet["tier_output_mtok"] == Decimal("22.5")
    assert sonnet["cache_write_1h_mtok"] == Decimal("6") and sonnet["tier_threshold"] == 200_000
    assert set(price_table()["price_version"]) == {PRICE_VERSION}


@settings(max_examples=60, deadline=None)
@given(
    model=st.sampled_from(
        [
            ("anthropic", "claude-sonnet-4-5-20250929"),
            ("anthropic", "claude-opus-4-6"),
            ("anthropic", "claude-haiku-4-5-20251001"),
            ("openai", "gpt-5-2025-08-07"),
            ("openai", "gpt-4.1-2025-04-14"),
        ]
    ),
    day=st.dates(min_value=date(2025, 10, 1), max_value=date(2026, 11, 27)),
    tokens=st.tuples(*[st.integers(0, 400_000)] * 5),
)
def test_a_single_request_costs_what_genai_prices_says(
    model: tuple[str, str], day: date, tokens: tuple[int, int, int, int, int]
) -> None:
    provider, name = model
    u, cr, w5, w1, out = tokens
    if provider == "openai":
        w1 = 0  # OpenAI has no 1-hour cache writes
    rows = _rows(
        [
            {
                "source": "claude_code_logs",
                "provider": provider,
                "model_raw": name,
                "billing_date": day,
                "uncached_input_tokens": u,
                "cache_read_tokens": cr,
                "cache_write_5m_tokens": w5,
                "cache_write_1h_tokens": w1,
                "output_tokens": out,
                "requests": 1,
            }
        ]
    )
    priced = price_usage(rows).row(0, named=True)
    assert priced["list_cost_usd"] == _reference(provider, name, day, u, cr, w5, w1, out)
    assert priced["pricing_flag"] is None and priced["price_version"] == PRICE_VERSION


def test_many_small_requests_in_a_day_are_not_charged_the_long_context_tier() -> None:
    small = {
        "source": "claude_code_logs",
        "provider": "anthropic",
        "model_raw": "claude-sonnet-4-5-20250929",
        "billing_date": date(2026, 3, 2),
        "uncached_input_tokens": 150_000,
        "output_tokens": 1_000,
        "requests": 1,
    }
    priced = price_usage(_rows([small] * 10))
    # ten requests of 150k input: 1.5M input tokens in the day, each request below 200k → base $3/MTok
    assert priced["list_cost_usd"].sum() == Decimal(10) * (Decimal("0.45") + Decimal("0.015"))
    big = {**small, "uncached_input_tokens": 250_000}
    assert price_usage(_rows([big]))["list_cost_usd"][0] == Decimal("1.5") + Decimal("0.0225")


def test_aggregates_take_the_tier_from_context_window_and_flag_when_it_is_missing() -> None:
    agg = {
        "source": "anthropic_usage",
        "provider": "anthropic",
        "model_raw": "claude-sonnet-4-5-20250929",
        "billing_date": date(2026, 3, 2),
        "uncached_input_tokens": 1_000_000,
    }
    priced = price_usage(_rows([{**agg, "context_window": "0-200k"}, {**agg, "context_window": "200k-1M"}, agg]))
    assert priced["list_cost_usd"].to_list() == [Decimal("3"), Decimal("6"), Decimal("3")]
    assert priced["pricing_flag"].to_list() == [None, None, "base_tier_assumed"]


def test_unknown_model_is_flagged_unpriced_never_zero() -> None:
    rows = _rows(
        [
            {
                "source": "openai_usage",
                "provider": "openai",
                "model_raw": "gpt-99-turbo-internal",
                "billing_date": date(2026, 3, 2),
                "uncached_input_tokens": 10,
                "output_tokens": 5,
            }
        ]
    )
    priced = price_usage(rows).row(0, named=True)
    assert priced["list_cost_usd"] is None and priced["pricing_flag"] == "unpriced"
    assert priced["model"] == "gpt-99-turbo-internal"


def test_history_is_priced_at_the_price_in_force_then() -> None:
    # claude-opus-4-6 had long-context tiers until 2026-03-13 and flat prices after
    row = {
        "source": "anthropic_usage",
        "provider": "anthropic",
        "model_raw": "claude-opus-4-6",
        "uncached_input_tokens": 1_000_000,
        "context_window": "200k-1M",
    }
    priced = price_usage(
        _rows([{**row, "billing_date": date(2026, 3, 12)}, {**row, "billing_date": date(2026, 3, 13)}])
    )
    assert priced["list_cost_usd"].to_list() == [Decimal("10"), Decimal("5")]


@pytest.mark.parametrize("column", ["billed_cost_usd", "list_cost_usd"])
def test_money_columns_stay_decimal_38_12(column: str) -> None:
    assert USAGE_SCHEMA[column] == pl.Decimal(38, 12)


def test_an_aggregate_is_tiered_only_when_its_window_decides_the_tier() -> None:
    # claude-haiku-5-5's tier starts at 100k input tokens: a 0-200k bucket mixes both sides of it
    agg = {
        "source": "anthropic_usage",
        "provider": "anthropic",
        "model_raw": "claude-haiku-5-5",
        "billing_date": date(2026, 3, 2),
        "uncached_input_tokens": 1_000_000,
    }
    windows = ["0-200k", "200k-1M", "1M-2M", None]
    priced = price_usage(_rows([{**agg, "context_window": w} for w in windows]))
    assert priced["list_cost_usd"].to_list() == [Decimal("0.1"), Decimal("0.5"), Decimal("0.1"), Decimal("0.1")]
    assert priced["pricing_flag"].to_list() == ["base_tier_assumed", None, "base_tier_assumed", "base_tier_assumed"]
