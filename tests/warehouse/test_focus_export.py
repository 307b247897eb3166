"""mart.focus and the FOCUS 1.2 export: columns and types as the spec says, money tied to core.fct_spend,
tokens, seats and credits in their own units, Tags and the x_ extension columns."""

from __future__ import annotations

import csv
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.focus_check import KNOWN_DEFECTS, NoPythonError, run_validator
from tests.warehouse.test_spend_attribution import ANN_BO_CY, DAY, TOKENS, row, warehouse
from warehouse.exports.focus import focus_frame, write_focus

COLUMNS = Path(__file__).parents[1] / "fixtures" / "focus" / "focus_columns.csv"
SPEC_TYPES = {
    "Decimal": pl.Decimal(38, 12),
    "String": pl.String,
    "Date/Time": pl.Datetime("us", "UTC"),
    "JSON": pl.String,
}


def _spec() -> list[dict[str, str]]:
    with COLUMNS.open() as f:
        return [row for row in csv.DictReader(f) if row["InSpec1_2"] == "yes"]


def _frame(path: Path) -> pl.DataFrame:
    with duckdb.connect(str(path), read_only=True) as con:
        return focus_frame(con, date(2026, 3, 17))


def test_every_focus_1_2_column_present_is_typed_as_the_spec_says_and_mandatory_ones_all_there(
    focus_warehouse: Path,
) -> None:
    frame = _frame(focus_warehouse)
    spec = {row["ColumnId"]: row for row in _spec()}
    mandatory = [c for c, row in spec.items() if row["FeatureLevel"] == "Mandatory"]
    assert len(mandatory) == 21
    assert [c for c in mandatory if c not in frame.columns] == []
    # every other column is either a FOCUS 1.2 column or an x_ extension
    assert [c for c in frame.columns if c not in spec and not c.startswith("x_")] == []
    for column in frame.columns:
        if column in spec:
            assert frame.schema[column] == SPEC_TYPES[spec[column]["DataType"]], column
            if spec[column]["AllowsNulls"] == "False":
                assert frame[column].null_count() == 0, column
    assert all(isinstance(json.loads(t), dict) for t in frame["Tags"])


def test_billed_cost_ties_to_core_fct_spend_exactly_per_month_and_provider(focus_warehouse: Path) -> None:
    frame = _frame(focus_warehouse)
    with duckdb.connect(str(focus_warehouse), read_only=True) as con:
        by_provider = dict(
            con.sql(
                "select provider, sum(spend_usd) from core.fct_spend "
                "where billing_date >= '2026-03-01' and billing_date < '2026-04-01' group by 1"
            ).fetchall()
        )
        months = con.sql("select count(distinct date_trunc('month', billing_date)) from core.fct_spend").fetchall()
    assert months == [(1,)]
    focus = {
        r["BillingAccountId"]: r["BilledCost"]
        for r in frame.group_by("BillingAccountId").agg(pl.col("BilledCost").sum()).iter_rows(named=True)
    }
    assert focus == by_provider
    # the sample bills (370.9535094 + 6.02711375, test_warehouse_build) plus the three extra rows at list
    assert sum(focus.values()) == sum(by_provider.values())
    assert frame["EffectiveCost"].sum() == frame["BilledCost"].sum() == frame["ContractedCost"].sum()
    assert frame["BillingPeriodStart"].unique().to_list() == [datetime(2026, 3, 1, tzinfo=UTC)]
    assert frame["BillingPeriodEnd"].unique().to_list() == [datetime(2026, 4, 1, tzinfo=UTC)]


def test_tokens_are_consumed_quantity_and_seats_and_credits_keep_their_own_units(focus_warehouse: Path) -> None:
    frame = _frame(focus_warehouse)
    tokens = frame.filter(pl.col("x_UncachedInputTokens").is_not_null())
    kinds = [
        "x_UncachedInputTokens",
        "x_CacheReadTokens",
        "x_CacheWrite5mTokens",
        "x_CacheWrite1hTokens",
        "x_OutputTokens",
    ]
    assert tokens.height > 0
    assert tokens["ConsumedUnit"].unique().to_list() == ["Tokens"]
    assert tokens["ConsumedQuantity"].to_list() == [Decimal(sum(r)) for r in tokens.select(kinds).iter_rows()]
    with duckdb.connect(str(focus_warehouse), read_only=True) as con:
        total_tokens = con.sql(
            "select sum(uncached_input_tokens + cache_read_tokens + cache_write_5m_tokens + cache_write_1h_tokens"
            " + output_tokens) from core.fct_spend where spend_usd is not null"
        ).fetchall()[0][0]
    assert tokens["ConsumedQuantity"].sum() == total_tokens
    alice = frame.filter(pl.col("SubAccountId") == "wrkspc_seats").sort("x_BillingModel")
    got = alice.select(
        "x_BillingModel",
        "ChargeCategory",
        "ChargeFrequency",
        "ConsumedQuantity",
        "ConsumedUnit",
        "PricingUnit",
        "BilledCost",
        "ListCost",
        "ChargeDescription",
    ).rows()
    assert got == [
        (
            "credits",
            "Usage",
            "Usage-Based",
            Decimal(120),
            "Credits",
            "Credits",
            Decimal("4.8"),
            Decimal("4.8"),
            "Claude API credits",
        ),
        ("other", "Credit", "Usage-Based", None, None, None, Decimal("-1.25"), Decimal("-1.25"), "Claude API credit"),
        (
            "seat",
            "Usage",
            "Recurring",
            Decimal(3),
            "Seats",
            "Seats",
            Decimal("2.5"),
            Decimal("2.5"),
            "Claude API seats",
        ),
    ]
    assert alice["ChargeClass"].to_list() == [None] * 3


def test_tags_carry_engineer_team_and_cost_centre_and_x_columns_name_engineer_and_model(focus_warehouse: Path) -> None:
    frame = _frame(focus_warehouse)
    alice = frame.filter(pl.col("SubAccountId") == "wrkspc_seats")
    assert [json.loads(t) for t in alice["Tags"]] == [{"engineer": "E3", "team": "data", "cost_centre": "CC-102"}] * 3
    assert alice["x_EngineerId"].unique().to_list() == ["E3"]
    assert alice["x_PrincipalId"].unique().to_list() == ["alice@acme.example"]
    ann = frame.filter(pl.col("x_EngineerId") == "E1")
    assert ann.height > 0
    assert {json.loads(t)["team"] for t in ann["Tags"]} == {"platform"}
    assert set(ann["x_Model"]) <= {"claude-sonnet-4-5", "claude-opus-4-1", "claude-haiku-4-5", "claude-sonnet-4"}
    unattributed = frame.filter(pl.col("x_EngineerId").is_null())
    assert unattributed.height > 0
    assert all("engineer" not in json.loads(t) for t in unattributed["Tags"])
    assert frame["ServiceCategory"].unique().to_list() == ["AI and Machine Learning"]
    assert frame["ServiceSubcategory"].unique().to_list() == ["Generative AI"]
    assert sorted(frame["ServiceName"].unique()) == ["Claude API", "OpenAI API"]


def test_csv_and_parquet_writers_keep_exact_money_and_utc_timestamps(focus_warehouse: Path, tmp_path: Path) -> None:
    frame = _frame(focus_warehouse)
    parquet = write_focus(frame, tmp_path / "out" / "focus.parquet", "parquet")
    assert pl.read_parquet(parquet).equals(frame)
    written = write_focus(frame, tmp_path / "out" / "focus.csv", "csv")
    with written.open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == frame.height
    assert sum(Decimal(r["BilledCost"]) for r in rows) == frame["BilledCost"].sum()
    assert {r["BillingPeriodStart"] for r in rows} == {"2026-03-01T00:00:00Z"}
    with pytest.raises(ValueError, match="csv, parquet"):
        write_focus(frame, tmp_path / "x.xlsx", "xlsx")


@pytest.mark.slow  # installs focus-validator into .venv-focus the first time
def test_seats_credits_and_unallocated_bill_lines_pass_focus_validator_too(
    focus_warehouse: Path, tmp_path: Path
) -> None:
    data_file = write_focus(_frame(focus_warehouse), tmp_path / "focus.parquet", "parquet")
    try:
        result = run_validator(data_file)
    except NoPythonError as err:
        pytest.fail(str(err))
    assert result.unexplained == [], result.summary()
    assert (result.total, result.passed, result.failures) == (578, 136, sorted(KNOWN_DEFECTS))


def test_a_shared_routes_seats_are_split_among_its_members_like_its_dollars(tmp_path: Path) -> None:
    no_tokens = dict.fromkeys(TOKENS)
    seats = {"billing_model": "seat", "quantity": Decimal(3), "unit": "seat", **no_tokens}
    rows = [
        row("openai_usage", "metered", ("api_key_id", "key_gateway"), "6.4", "8", **seats),
        row("litellm_spend", "observational", ("email", "ann@x.example"), None, "3"),
        row("litellm_spend", "observational", ("email", "bo@x.example"), None, "1"),
    ]
    members = [("key_gateway", "E1", None, None), ("key_gateway", "E2", None, None)]
    path = warehouse(tmp_path, rows, ANN_BO_CY, members)
    with duckdb.connect(str(path), read_only=True) as con:
        frame = focus_frame(con, DAY)
    got = frame.select("x_EngineerId", "BilledCost", "ConsumedQuantity", "ConsumedUnit", "ChargeFrequency").sort(
        "x_EngineerId"
    )
    # the members' logs weigh 3 : 1, for the seats as for the $6.40
    assert got.rows() == [
        ("E1", Decimal("4.8"), Decimal("2.25"), "Seats", "Recurring"),
        ("E2", Decimal("1.6"), Decimal("0.75"), "Seats", "Recurring"),
    ]
