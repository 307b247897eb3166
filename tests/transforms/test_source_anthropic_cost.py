"""anthropic_cost: Admin API cost report pages → billed USD rows (cents → dollars, exactly)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from tests.transforms.parser_kit import LANDED, make_raw, non_null, sample, write_json
from transforms.schema import USAGE_SCHEMA
from transforms.sources import parser

SRC = "anthropic_cost"
WS = "wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ"
SONNET = "claude-sonnet-4-5-20250929"


def test_verbatim_docs_example() -> None:
    raw = make_raw(sample("anthropic_cost_report_example.json"), source=SRC)
    result = parser("anthropic_cost")([raw])

    assert result.rows.schema == USAGE_SCHEMA
    (row,) = non_null(result.rows)
    assert len(row.pop("record_id")) == 64
    assert row == {
        "billing_date": date(2025, 8, 1),
        "period_start": datetime(2025, 8, 1, tzinfo=UTC),
        "period_end": datetime(2025, 8, 2, tzinfo=UTC),
        "source": "anthropic_cost",
        "provider": "anthropic",
        "publisher": "anthropic",
        "model": "claude-opus-5",
        "model_raw": "claude-opus-5",
        "context_window": "0-200k",
        "service_tier": "standard",
        "inference_geo": "global",
        "scope_kind": "workspace",
        "scope_id": WS,
        "billing_model": "metered_tokens",
        "charge_category": "usage",
        "line_item": "Claude Opus 5 Usage - Input Tokens",
        "token_kind": "uncached_input",
        "currency": "USD",
        "amount_original": Decimal("1.237891200000"),
        "fx_rate": Decimal("1"),
        "billed_cost_usd": Decimal("1.237891200000"),
        "raw_sha256": raw.sha256,
        "ingested_at": LANDED,
    }
    assert str(result.rows["billed_cost_usd"][0]) == "1.237891200000"
    assert result.stats.select("parsed", "loaded", "rejected").row(0) == (1, 1, 0)


def test_grouped_example() -> None:
    raw = make_raw(sample("anthropic_cost_report_grouped_example.json"), source=SRC)
    result = parser("anthropic_cost")([raw])

    got = result.rows.sort("line_item").select(
        "line_item", "token_kind", "model_raw", "publisher", "billing_model", "scope_id", "billed_cost_usd"
    )
    assert got.rows() == [
        ("Claude Sonnet 4.5 Usage - Input Tokens", "uncached_input", SONNET, "anthropic", "metered_tokens", WS,
         Decimal("144.633")),
        ("Claude Sonnet 4.5 Usage - Input Tokens, Cache Hit", "cache_read", SONNET, "anthropic", "metered_tokens",
         "default", Decimal("1.1706339")),
        ("Claude Sonnet 4.5 Usage - Input Tokens, Cache Write 5m", "cache_write_5m", SONNET, "anthropic",
         "metered_tokens", "default", Decimal("0.4512525")),
        ("Claude Sonnet 4.5 Usage - Output Tokens", "output", SONNET, "anthropic", "metered_tokens", WS,
         Decimal("224.6625")),
        ("Code Execution Usage", None, None, None, "other", WS, Decimal("0.006123")),
        ("Web Search Usage", None, None, None, "other", "default", Decimal("0.03")),
    ]  # fmt: skip
    assert (result.rows["amount_original"] == result.rows["billed_cost_usd"]).all()
    assert result.rows["currency"].unique().to_list() == ["USD"]
    # cost rows carry no token counts
    assert result.rows.select("uncached_input_tokens", "output_tokens", "requests").null_count().row(0) == (6, 6, 6)
    assert result.stats.select("parsed", "loaded", "rejected", "min_date", "max_date").row(0) == (
        6,
        6,
        0,
        date(2026, 3, 2),
        date(2026, 3, 2),
    )


def _page(*results: dict[str, object]) -> dict[str, object]:
    return {
        "data": [
            {"starting_at": "2026-03-02T00:00:00Z", "ending_at": "2026-03-03T00:00:00Z", "results": list(results)}
        ],
        "has_more": False,
        "next_page": None,
    }


def test_many_decimals_and_bad_amounts(tmp_path: Path) -> None:
    page = _page(
        {"amount": "2799.187450", "currency": "USD", "description": "a"},
        {"amount": "0.000001", "currency": "usd", "description": "b"},
        {"amount": "12.5e1", "currency": "USD", "description": "c"},
        {"amount": "abc", "currency": "USD", "description": "d"},
        {"amount": "1.00", "currency": None, "description": "e"},
    )
    raw = make_raw(write_json(tmp_path / "cost.json", page), source=SRC)
    result = parser("anthropic_cost")([raw])

    assert result.rows.sort("line_item").select("line_item", "billed_cost_usd", "currency").rows() == [
        ("a", Decimal("27.991874500000"), "USD"),
        ("b", Decimal("0.000000010000"), "USD"),
        ("c", Decimal("1.25"), "USD"),
    ]
    # no group by description: cost_type is null, so the line is not known to be tokens
    assert result.rows["billing_model"].unique().to_list() == ["other"]
    assert result.rejects.select("file", "line", "field", "reason").rows() == [
        ("cost.json", 4, "amount", "not a number"),
        ("cost.json", 5, "currency", "null"),
    ]
    assert result.stats.select("parsed", "loaded", "rejected").row(0) == (5, 3, 2)


def test_token_type_mapping_covers_1h_cache_writes(tmp_path: Path) -> None:
    page = _page(
        {
            "amount": "10",
            "currency": "USD",
            "cost_type": "tokens",
            "model": "claude-opus-4-1",
            "token_type": "cache_creation.ephemeral_1h_input_tokens",
            "description": "1h",
        }
    )
    raw = make_raw(write_json(tmp_path / "cost.json", page), source=SRC)
    assert parser("anthropic_cost")([raw]).rows.select("token_kind", "billed_cost_usd").row(0) == (
        "cache_write_1h",
        Decimal("0.1"),
    )


def test_amount_beyond_the_money_maximum_is_rejected_at_its_line(tmp_path: Path) -> None:
    # 10^23 cents used to land with amount_original NULL; the money maximum is below 10^12 (docs/money.md)
    page = _page(
        {"amount": "100000000000000000000000", "currency": "USD", "description": "huge"},
        {"amount": "999999999999.99", "currency": "USD", "description": "largest"},
        {"amount": "-1000000000000", "currency": "USD", "description": "huge credit"},
        {"amount": "1e40", "currency": "USD", "description": "beyond decimal"},
        {"amount": "250", "currency": "EUR", "description": "euro"},
    )
    raw = make_raw(write_json(tmp_path / "cost.json", page), source=SRC)
    result = parser("anthropic_cost")([raw])

    assert result.rejects.select("file", "line", "field", "reason").rows() == [
        ("cost.json", 1, "amount", "out of range (money is below 10^12)"),
        ("cost.json", 3, "amount", "out of range (money is below 10^12)"),
        ("cost.json", 4, "amount", "out of range"),
    ]
    assert result.rows.sort("line_item").select(
        "line_item", "currency", "amount_original", "billed_cost_usd"
    ).rows() == [
        # the parser keeps a non-USD amount in its currency; the lake build converts it (transforms/fx.py)
        ("euro", "EUR", Decimal("2.5"), None),
        ("largest", "USD", Decimal("9999999999.9999"), Decimal("9999999999.9999")),
    ]
    assert result.stats.select("parsed", "loaded", "rejected").row(0) == (5, 2, 3)
