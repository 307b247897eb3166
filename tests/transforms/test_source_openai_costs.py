"""openai_costs: Costs API pages → billed USD rows (float dollars read through their text)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from tests.transforms.parser_kit import LANDED, make_raw, non_null, sample, write_json
from transforms.schema import USAGE_SCHEMA
from transforms.sources import parser

SRC = "openai_costs"


def test_verbatim_docs_example() -> None:
    raw = make_raw(sample("openai_costs_example.json"), source=SRC)
    result = parser("openai_costs")([raw])

    assert result.rows.schema == USAGE_SCHEMA
    (row,) = non_null(result.rows)
    assert len(row.pop("record_id")) == 64
    assert row == {
        "billing_date": date(2024, 11, 1),
        "period_start": datetime(2024, 11, 1, tzinfo=UTC),
        "period_end": datetime(2024, 11, 2, tzinfo=UTC),
        "source": "openai_costs",
        "provider": "openai",
        "scope_kind": "project",
        "scope_id": "default",
        "billing_model": "other",
        "charge_category": "usage",
        "currency": "USD",
        "amount_original": Decimal("0.06"),
        "fx_rate": Decimal("1"),
        "billed_cost_usd": Decimal("0.06"),
        "raw_sha256": raw.sha256,
        "ingested_at": LANDED,
    }


def test_grouped_example_reads_float_noise_through_text() -> None:
    raw = make_raw(sample("openai_costs_grouped_example.json"), source=SRC)
    result = parser("openai_costs")([raw])

    got = result.rows.sort("scope_id", "line_item").select(
        "scope_id", "line_item", "billed_cost_usd", "quantity", "unit", "billing_model"
    )
    assert got.rows() == [
        ("proj_Q2m9x1", "gpt-5-2025-08-07, cached input", Decimal("0.150168"), Decimal(1201344), "tokens",
         "metered_tokens"),
        ("proj_Q2m9x1", "gpt-5-2025-08-07, input", Decimal("0.802321250000"), Decimal(641857), "tokens",
         "metered_tokens"),
        ("proj_Q2m9x1", "gpt-5-2025-08-07, output", Decimal("0.90211"), Decimal(90211), "tokens", "metered_tokens"),
        ("proj_Svc77k", "gpt-5-2025-08-07, input", Decimal("3.76251375"), Decimal(3010011), "tokens",
         "metered_tokens"),
        ("proj_Svc77k", "web search tool calls", Decimal("0.41"), None, None, "other"),
    ]  # fmt: skip
    assert str(got["billed_cost_usd"][1]) == "0.802321250000"
    assert result.rows["currency"].unique().to_list() == ["USD"]
    assert result.rows.select("model", "publisher", "output_tokens").null_count().row(0) == (5, 5, 5)
    assert result.stats.select("parsed", "loaded", "rejected").row(0) == (5, 5, 0)


def _page(*results: dict[str, object]) -> dict[str, object]:
    return {
        "object": "page",
        "data": [{"object": "bucket", "start_time": 1772409600, "end_time": 1772496000, "results": list(results)}],
        "has_more": False,
        "next_page": None,
    }


def test_rejects_and_non_usd(tmp_path: Path) -> None:
    page = _page(
        {"amount": {"value": 1.5, "currency": "usd"}, "line_item": "ok", "api_key_id": "key_1"},
        {"amount": {"value": "oops", "currency": "usd"}, "line_item": "bad value"},
        {"amount": {"value": 2, "currency": "usd"}, "line_item": "bad quantity", "quantity": "many"},
        {"amount": {"value": 3.25, "currency": "eur"}, "line_item": "euro"},
    )
    raw = make_raw(write_json(tmp_path / "costs.json", page), source=SRC)
    result = parser("openai_costs")([raw])

    assert result.rows.sort("line_item").select(
        "line_item", "principal_kind", "principal_id", "currency", "amount_original", "fx_rate", "billed_cost_usd"
    ).rows() == [
        # a non-USD amount keeps its currency and original amount; USD needs a rate the pipeline supplies
        ("euro", None, None, "EUR", Decimal("3.25"), None, None),
        ("ok", "api_key_id", "key_1", "USD", Decimal("1.5"), Decimal(1), Decimal("1.5")),
    ]
    assert result.rejects.select("line", "field", "reason").rows() == [
        (2, "amount.value", "not a number"),
        (3, "quantity", "not a number"),
    ]
    assert result.stats.select("parsed", "loaded", "rejected").row(0) == (4, 2, 2)


def test_amount_beyond_the_money_maximum_is_rejected_at_its_line(tmp_path: Path) -> None:
    # 1e25 dollars used to land and fail later with "Overflow in multiplication of DECIMAL(38)"
    page = _page(
        {"amount": {"value": 1e25, "currency": "usd"}, "line_item": "huge"},
        {"amount": {"value": 1.5, "currency": "usd"}, "line_item": "ok"},
        {"amount": {"value": 999999999999.5, "currency": "usd"}, "line_item": "largest"},
        {"amount": {"value": 1e12, "currency": "usd"}, "line_item": "at the maximum"},
        {"amount": {"value": 1e300, "currency": "usd"}, "line_item": "beyond decimal"},
    )
    raw = make_raw(write_json(tmp_path / "costs.json", page), source=SRC)
    result = parser("openai_costs")([raw])

    assert result.rejects.select("file", "line", "field", "reason").rows() == [
        ("costs.json", 1, "amount.value", "out of range (money is below 10^12)"),
        ("costs.json", 4, "amount.value", "out of range (money is below 10^12)"),
        ("costs.json", 5, "amount.value", "out of range"),
    ]
    assert result.rows.sort("line_item").select("line_item", "billed_cost_usd").rows() == [
        ("largest", Decimal("999999999999.5")),
        ("ok", Decimal("1.5")),
    ]
    assert result.stats.select("parsed", "loaded", "rejected").row(0) == (5, 2, 3)
