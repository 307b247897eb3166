"""Money in exports: rounded to cents by largest remainder within each column's total, so a report still ties;
text a spreadsheet would run is neutralized."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import duckdb
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.money import install_money_macros
from warehouse.exports import REPORTS, ExportUnavailable, _module, report, round_cents
from warehouse.exports.files import neutralize

CENT = Decimal("0.01")
amounts = st.decimals(min_value=Decimal("-1e9"), max_value=Decimal("1e9"), places=12, allow_nan=False)


def _rounded(values: list[Decimal | None], other: list[Decimal | None] | None = None) -> pl.DataFrame:
    columns = {"row_no": list(range(1, len(values) + 1)), "name": [f"r{i}" for i in range(len(values))]}
    columns["spend_usd"] = values  # type: ignore[assignment]
    if other is not None:
        columns["list_usd"] = other  # type: ignore[assignment]
    schema = {"row_no": pl.Int64, "name": pl.String, "spend_usd": pl.Decimal(38, 12), "list_usd": pl.Decimal(38, 12)}
    frame = pl.DataFrame(columns, schema={k: v for k, v in schema.items() if k in columns})
    with duckdb.connect() as con:
        install_money_macros(con)
        return round_cents(con, frame)


@settings(max_examples=60, deadline=None)
@given(st.lists(amounts, min_size=1, max_size=30))
def test_columns_sum_to_the_exact_total_rounded_once_and_no_row_moves_a_cent(values: list[Decimal]) -> None:
    out = _rounded(values)  # type: ignore[arg-type]
    exact_total = sum(values, Decimal(0)).quantize(CENT, rounding=ROUND_HALF_UP)  # half away from zero
    assert sum(out["spend_usd"].to_list(), Decimal(0)) == exact_total
    for exact, cents in zip(values, out["spend_usd"].to_list(), strict=True):
        assert abs(cents - exact) < CENT
        assert cents == cents.quantize(CENT)
    assert out.columns == ["name", "spend_usd"] and out["name"].to_list() == [f"r{i}" for i in range(len(values))]


def test_the_lost_cents_go_to_the_largest_remainders_lower_row_first() -> None:
    # three thirds of a cent: the total is 0.01 and it goes to the first row (equal remainders)
    third = Decimal("0.003333333333")
    assert _rounded([third, third, third])["spend_usd"].to_list() == [CENT, 0, 0]
    # 1.004 + 2.006 = 3.01: floors 1.00 and 2.00, the cent to the larger remainder (0.006)
    assert _rounded([Decimal("1.004"), Decimal("2.006")])["spend_usd"].to_list() == [Decimal("1.00"), Decimal("2.01")]
    # negatives floor toward minus infinity: -0.004 + 0.009 = 0.005 -> 0.01 (half away from zero)
    assert _rounded([Decimal("-0.004"), Decimal("0.009")])["spend_usd"].to_list() == [Decimal("0.00"), CENT]


def test_each_money_column_is_rounded_within_its_own_total_and_nulls_stay_null() -> None:
    out = _rounded([Decimal("0.005"), None, Decimal("0.005")], [Decimal("1.111"), Decimal("2.222"), None])
    assert out["spend_usd"].to_list() == [CENT, None, Decimal("0.00")]
    assert out["list_usd"].to_list() == [Decimal("1.11"), Decimal("2.22"), None]
    assert out.schema["spend_usd"] == pl.Decimal(38, 2)


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_text_a_spreadsheet_would_run_is_neutralized(start: str) -> None:
    frame = pl.DataFrame({"name": [f"{start}HYPERLINK(1)", "Ada", None], "n": [1, -2, 3]})
    out = neutralize(frame)
    assert out["name"].to_list() == [f"'{start}HYPERLINK(1)", "Ada", None]
    assert out["n"].to_list() == [1, -2, 3]  # numbers are not text: a negative number stays a number


def test_registry_lists_every_report_and_leaves_slots_for_focus_and_summary() -> None:
    assert list(REPORTS) == [
        "chargeback",
        "engineers",
        "reconciliation",
        "invoices",
        "unattributed",
        "focus",
        "summary",
    ]
    assert report("reconciliation").formats == ("csv", "xlsx", "parquet")
    assert [s.name for s in report("reconciliation").sections] == ["reconciliation", "invoices"]
    assert report("summary").formats == ("html", "png")


def test_a_slot_whose_module_is_missing_says_so_in_one_line() -> None:
    with pytest.raises(ExportUnavailable, match=r"^report 'x' is not available in this build \(warehouse/exports/nope"):
        _module("nope", "x")
