"""Local price overrides: replacements, discounts, added models, the version they stamp, and strict validation."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from transforms.pricing import (
    OVERRIDE_COLUMNS,
    OVERRIDES_SCHEMA,
    PRICE_VERSION,
    apply_overrides,
    default_overrides,
    load_overrides,
    match_models,
    price_table,
    price_usage,
)
from transforms.schema import conform

HEADER = ",".join(OVERRIDE_COLUMNS)


def _csv(tmp_path: Path, *lines: str, name: str = "overrides.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return path


def _line(**cells: str) -> str:
    unknown = set(cells) - set(OVERRIDE_COLUMNS)
    assert not unknown, unknown
    return ",".join(cells.get(c, "") for c in OVERRIDE_COLUMNS)


def _version(path: Path) -> str:
    return f"{PRICE_VERSION}+overrides:{hashlib.sha256(path.read_bytes()).hexdigest()[:12]}"


def _usage(
    raw: str,
    day: date,
    *,
    provider: str = "anthropic",
    tier: str | None = None,
    uncached: int = 1_000_000,
    output: int = 0,
    window: str | None = "0-200k",
) -> dict[str, object]:
    return {
        "source": f"{provider}_usage",
        "provider": provider,
        "model_raw": raw,
        "billing_date": day,
        "context_window": window,
        "service_tier": tier,
        "uncached_input_tokens": uncached,
        "cache_read_tokens": 0,
        "cache_write_5m_tokens": 0,
        "cache_write_1h_tokens": 0,
        "output_tokens": output,
    }


def _price(rows: list[dict[str, object]], overrides: pl.DataFrame | None) -> pl.DataFrame:
    return price_usage(conform(pl.DataFrame(rows, infer_schema_length=None)).collect(), overrides)


SONNET = "claude-sonnet-4-5-20250929"


def test_the_packaged_default_is_empty_and_changes_nothing() -> None:
    overrides = default_overrides()
    assert overrides.is_empty() and overrides.schema == OVERRIDES_SCHEMA
    rows = [_usage(SONNET, date(2026, 3, 2))]
    assert _price(rows, overrides).equals(_price(rows, None))
    assert apply_overrides(price_table(), overrides) is price_table()


def test_a_replacement_prices_its_range_and_stamps_the_overrides_version(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        _line(
            provider="anthropic",
            model="claude-sonnet-4-5",
            effective_from="2026-01-01",
            effective_to="2026-02-01",
            uncached_input_mtok="2.4",
            cache_read_mtok="0.24",
            cache_write_5m_mtok="3",
            cache_write_1h_mtok="4.8",
            output_mtok="12",
            tier_threshold="200000",
            tier_uncached_input_mtok="4.8",
            tier_cache_read_mtok="0.48",
            tier_cache_write_5m_mtok="6",
            tier_cache_write_1h_mtok="9.6",
            tier_output_mtok="18",
            note="negotiated for January",
        ),
    )
    overrides = load_overrides(path)
    days = [date(2025, 12, 31), date(2026, 1, 1), date(2026, 1, 31), date(2026, 2, 1)]
    priced = _price([_usage(SONNET, d, output=100_000) for d in days], overrides)
    assert priced["list_cost_usd"].to_list() == [Decimal("4.5"), Decimal("3.6"), Decimal("3.6"), Decimal("4.5")]
    version = _version(path)
    assert version.startswith("genai-prices 0.2.3+overrides:") and len(version.rsplit(":", 1)[1]) == 12
    assert priced["price_version"].to_list() == [PRICE_VERSION, version, version, PRICE_VERSION]
    long = _price([_usage(SONNET, date(2026, 1, 5), window="200k-1M")], overrides)
    assert long["list_cost_usd"].to_list() == [Decimal("4.8")]
    # another model, and the catalog's batch price from 2026-10-14, are untouched
    other = _price([_usage("claude-opus-4-5", date(2026, 1, 5))], overrides)
    assert other["list_cost_usd"].to_list() == [Decimal("5")] and other["price_version"][0] == PRICE_VERSION


def test_a_replacement_for_a_tier_leaves_the_standard_price_alone(tmp_path: Path) -> None:
    prices = dict.fromkeys(
        ("uncached_input_mtok", "cache_read_mtok", "cache_write_5m_mtok", "cache_write_1h_mtok", "output_mtok"), "1"
    )
    overrides = load_overrides(
        _csv(tmp_path, _line(provider="openai", model="gpt-5", service_tier="priority", **prices))
    )
    rows = [_usage("gpt-5", date(2026, 3, 2), provider="openai", tier=t, window=None) for t in ("priority", None)]
    assert _price(rows, overrides)["list_cost_usd"].to_list() == [Decimal("1"), Decimal("1.25")]


def test_a_discount_takes_a_percentage_off_the_price_in_force(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        _line(provider="anthropic", effective_from="2026-03-01", effective_to="2026-04-01", discount_pct="12.5"),
        _line(provider="openai", model="gpt-5", service_tier="batch", effective_from="2026-10-01", discount_pct="50"),
    )
    overrides = load_overrides(path)
    version = _version(path)
    rows = [
        _usage(SONNET, date(2026, 3, 2)),  # 3 → 2.625
        _usage("claude-opus-4-5", date(2026, 3, 31)),  # 5 → 4.375
        _usage(SONNET, date(2026, 4, 1)),  # after the range
        _usage("gpt-5", date(2026, 3, 2), provider="openai", window=None),  # other provider
        # gpt-5 batch: the standard price until the catalog's batch price starts 2026-10-14, then half of it
        _usage("gpt-5", date(2026, 10, 2), provider="openai", tier="batch", window=None),  # 1.25 → 0.625
        _usage("gpt-5", date(2026, 10, 20), provider="openai", tier="batch", window=None),  # 0.625 → 0.3125
        _usage("gpt-5", date(2026, 10, 20), provider="openai", tier="flex", window=None),  # another tier
        _usage("gpt-5", date(2026, 10, 20), provider="openai", window=None),  # the standard price
    ]
    priced = _price(rows, overrides)
    assert priced["list_cost_usd"].to_list() == [
        Decimal(v) for v in ("2.625", "4.375", "3", "1.25", "0.625", "0.3125", "0.625", "1.25")
    ]
    p, v = PRICE_VERSION, version
    assert priced["price_version"].to_list() == [v, v, p, p, v, v, p, p]


def test_a_discount_applies_on_top_of_a_replacement_and_rounds_to_the_price_scale(tmp_path: Path) -> None:
    prices = {
        "uncached_input_mtok": "0.000000125",
        "cache_read_mtok": "0",
        "cache_write_5m_mtok": "0",
        "cache_write_1h_mtok": "0",
        "output_mtok": "0",
    }
    path = _csv(
        tmp_path,
        _line(provider="anthropic", model="claude-haiku-4-5", **prices),
        _line(provider="anthropic", model="claude-haiku-4-5", discount_pct="15"),
    )
    table = apply_overrides(price_table(), load_overrides(path))
    haiku = table.filter((pl.col("model") == "claude-haiku-4-5") & pl.col("service_tier").is_null())
    # 0.000000125 × 0.85 = 0.00000010625, rounded half-even to 9 places
    assert haiku["uncached_input_mtok"].to_list() == [Decimal("0.000000106")]


def test_an_added_model_is_priced_instead_of_flagged(tmp_path: Path) -> None:
    prices = {
        "uncached_input_mtok": "0.5",
        "cache_read_mtok": "0.05",
        "cache_write_5m_mtok": "0.5",
        "cache_write_1h_mtok": "0.5",
        "output_mtok": "2",
    }
    path = _csv(
        tmp_path,
        _line(provider="openai", model="acme-coder", model_pattern=r"acme-coder(-\d{4}-\d{2}-\d{2})?", **prices),
        _line(provider="openai", model="ft:internal-7", effective_from="2026-01-01", **prices),
        _line(provider="anthropic", model="claude-sonnet-4-5", model_pattern="gateway/sonnet"),
    )
    overrides = load_overrides(path)
    rows = [
        _usage("acme-coder-2026-02-01", date(2026, 3, 2), provider="openai", output=1_000_000, window=None),
        _usage("acme-coder", date(2026, 3, 2), provider="openai", window=None),
        _usage("acme-coder-x", date(2026, 3, 2), provider="openai", window=None),  # not matched: fullmatch
        _usage("ft:internal-7", date(2026, 3, 2), provider="openai", window=None),  # no pattern: exact id
        _usage("ft:internal-7", date(2025, 12, 31), provider="openai", window=None),  # before its prices
        _usage("gateway/sonnet", date(2026, 3, 2)),  # a name mapped to a catalog model
    ]
    without = _price(rows, None)
    assert without["pricing_flag"].to_list() == ["unpriced"] * 6
    priced = _price(rows, overrides)
    assert priced["model"].to_list() == [
        "acme-coder",
        "acme-coder",
        "acme-coder-x",
        "ft:internal-7",
        "ft:internal-7",
        "claude-sonnet-4-5",
    ]
    assert priced["list_cost_usd"].to_list() == [
        Decimal("2.5"),
        Decimal("0.5"),
        None,
        Decimal("0.5"),
        None,
        Decimal("3"),
    ]
    assert priced["pricing_flag"].to_list() == [None, None, "unpriced", None, "unpriced", None]
    v = _version(path)
    assert priced["price_version"].to_list() == [v, v, None, v, None, v]


def test_patterns_are_matched_once_per_distinct_name_in_file_order(tmp_path: Path) -> None:
    prices = {
        "uncached_input_mtok": "1",
        "cache_read_mtok": "1",
        "cache_write_5m_mtok": "1",
        "cache_write_1h_mtok": "1",
        "output_mtok": "1",
    }
    path = _csv(
        tmp_path,
        _line(provider="openai", model="first", model_pattern="team-.*", **prices),
        _line(provider="openai", model="second", model_pattern="team-b", **prices),
    )
    mapping = match_models([("openai", "team-b"), ("openai", "team-b"), ("anthropic", "team-b")], load_overrides(path))
    assert mapping.rows() == [("anthropic", "team-b", None, None), ("openai", "team-b", "first", _version(path))]


def _prices(**cells: str) -> dict[str, str]:
    base = {
        "provider": "anthropic",
        "model": "claude-sonnet-4-5",
        "uncached_input_mtok": "3",
        "cache_read_mtok": "0.3",
        "cache_write_5m_mtok": "3.75",
        "cache_write_1h_mtok": "6",
        "output_mtok": "15",
    }
    return {**base, **cells}


@pytest.mark.parametrize(
    ("cells", "field", "reason"),
    [
        (_prices(output_mtok="1e1"), "output_mtok", "'1e1' is not a non-negative decimal number"),
        (_prices(output_mtok="-1"), "output_mtok", "'-1' is not a non-negative decimal number"),
        (_prices(output_mtok="15.0000000001"), "output_mtok", "has more than 9 decimal places"),
        (_prices(output_mtok="1000000000"), "output_mtok", "is too large"),
        (_prices(cache_write_1h_mtok=""), "cache_write_1h_mtok", "required when prices are given"),
        (_prices(tier_threshold="200000"), "tier_uncached_input_mtok", "required for a long-context tier"),
        (_prices(tier_output_mtok="22.5"), "tier_threshold", "required for a long-context tier"),
        (_prices(tier_threshold="2e5"), "tier_threshold", "is not a positive whole number"),
        (_prices(effective_from="2026-13-01"), "effective_from", "is not a date (YYYY-MM-DD)"),
        (_prices(effective_from="20260101"), "effective_from", "is not a date (YYYY-MM-DD)"),
        (_prices(effective_from="2026-02-01", effective_to="2026-02-01"), "effective_to", "is not after"),
        (_prices(provider=""), "provider", "required"),
        (_prices(provider="Anthropic"), "provider", "is not an id"),
        (_prices(service_tier="standard"), "service_tier", "leave it empty for the standard price"),
        (_prices(model=""), "model", "required unless the row is a provider-wide discount"),
        (
            {"provider": "anthropic", "model": "claude-nope", "model_pattern": "nope"},
            "model",
            "anthropic/claude-nope is not in genai-prices 0.2.3; give its prices",
        ),
        (_prices(model_pattern="gpt-(5"), "model_pattern", "is not a regular expression"),
        (_prices(discount_pct="10"), "discount_pct", "give prices or discount_pct, not both"),
        ({"provider": "openai", "discount_pct": "0"}, "discount_pct", "is not above 0 and at most 100"),
        ({"provider": "openai", "discount_pct": "100.5"}, "discount_pct", "is not above 0 and at most 100"),
        ({"provider": "openai", "discount_pct": "ten"}, "discount_pct", "is not a non-negative decimal number"),
        ({"provider": "openai", "model": "gpt-nope", "discount_pct": "5"}, "model", "is not in genai-prices 0.2.3"),
        ({"provider": "openai", "model": "gpt-5", "model_pattern": "x", "discount_pct": "5"}, "model_pattern", "map"),
        ({"provider": "openai", "model": "acme-new", "model_pattern": "acme"}, "model", "give its prices"),
        (
            {"provider": "openai", "model": "gpt-5"},
            "uncached_input_mtok",
            "needs prices, discount_pct or model_pattern",
        ),
    ],
)
def test_a_bad_cell_is_named_by_file_line_and_field(
    tmp_path: Path, cells: dict[str, str], field: str, reason: str
) -> None:
    path = _csv(tmp_path, _line(provider="openai", model="gpt-5", discount_pct="1"), "", _line(**cells))
    with pytest.raises(ValueError) as caught:
        load_overrides(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:4: field '{field}': "), message
    assert reason in message, message


def test_overlapping_rows_of_one_scope_are_rejected(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        _line(**_prices(effective_from="2026-01-01", effective_to="2026-03-01")),
        _line(**_prices(effective_from="2026-03-01")),  # adjacent: fine
        _line(**_prices(effective_from="2026-02-01", effective_to="2026-02-02", service_tier="batch")),  # other tier
        _line(**_prices(effective_from="2026-02-28", effective_to="2026-03-02")),
    )
    with pytest.raises(ValueError, match=rf"^{path}:5: field 'effective_from': overlaps the prices on line 2$"):
        load_overrides(path)
    path = _csv(
        tmp_path,
        _line(provider="anthropic", model="claude-opus-4-5", discount_pct="5"),
        _line(provider="openai", discount_pct="5"),
        _line(provider="anthropic", effective_from="2026-01-01", discount_pct="5"),
    )
    with pytest.raises(ValueError, match=rf"^{path}:4: field 'discount_pct': overlaps the discount on line 2$"):
        load_overrides(path)


def test_file_shape_errors_name_the_file_and_line(tmp_path: Path) -> None:
    bad_header = tmp_path / "header.csv"
    bad_header.write_text(HEADER.replace("discount_pct", "discount") + "\n")
    with pytest.raises(ValueError, match=r"header.csv:1: header: missing columns \['discount_pct'\]"):
        load_overrides(bad_header)
    short = _csv(tmp_path, "anthropic,claude-sonnet-4-5,", name="short.csv")
    with pytest.raises(ValueError, match=r"short.csv:2: expected 19 fields, found 3"):
        load_overrides(short)
    latin = tmp_path / "latin.csv"
    latin.write_bytes((HEADER + "\nanthropic,claude-sonnet-4-5,,,,,,,,,,,,,,,,5,caf\xe9\n").encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin.csv: not UTF-8 text"):
        load_overrides(latin)


def test_prices_are_read_from_their_text_exactly(tmp_path: Path) -> None:
    path = _csv(tmp_path, _line(**_prices(uncached_input_mtok="0.1", output_mtok="123456789.123456789")))
    row = load_overrides(path).row(0, named=True)
    assert row["uncached_input_mtok"] == Decimal("0.1") and row["output_mtok"] == Decimal("123456789.123456789")
    assert row["line"] == 2 and row["price_version"] == _version(path)
