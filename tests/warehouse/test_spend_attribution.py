"""Shared routes are split by the observational sources that name their users; the total never moves."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.reference import KINDS
from pipelines.warehouse import warehouse_params
from transforms.schema import USAGE_SCHEMA, conform
from warehouse.build import BuildInputs, build

DAY = date(2026, 3, 2)
TOKENS = {
    "uncached_input_tokens": 1000,
    "cache_read_tokens": 0,
    "cache_write_5m_tokens": 0,
    "cache_write_1h_tokens": 0,
    "output_tokens": 100,
}


def row(
    source: str, role: str, principal: tuple[str, str], spend: str | None, list_usd: str, **extra: object
) -> dict[str, object]:
    kind, value = principal
    return {
        "source": source,
        "spend_role": role,
        "provider": "openai",
        "model": "gpt-5",
        "billing_date": DAY,
        "usage_date": DAY,
        "period_start": datetime(2026, 3, 2, tzinfo=UTC),
        "principal_kind": kind,
        "principal_id": value,
        "scope_kind": "project",
        "scope_id": "p1",
        "record_id": f"{source}{value}{list_usd}",
        "list_cost_usd": Decimal(list_usd),
        "cost_basis": "allocated" if role == "metered" else None,
        "allocated_cost_usd": Decimal(spend) if spend else None,
        **TOKENS,
        **extra,
    }


def warehouse(tmp_path: Path, rows: list[dict[str, object]], aliases: list[tuple[str, str, str]]) -> Path:
    lake = tmp_path / "lake" / f"billing_date={DAY}"
    lake.mkdir(parents=True)
    # the bill the metered rows' allocated dollars came from, all of it placed on them
    placed = sum(Decimal(str(r["allocated_cost_usd"])) for r in rows if r["spend_role"] == "metered")
    bill = {
        "source": "openai_costs",
        "spend_role": "billed",
        "provider": "openai",
        "billing_date": DAY,
        "usage_date": DAY,
        "scope_kind": "project",
        "scope_id": "p1",
        "record_id": "bill",
        "cost_basis": "billed",
        "billed_cost_usd": placed,
        "allocated_cost_usd": placed,
    }
    frame = conform(pl.DataFrame([*rows, bill], infer_schema_length=None)).collect()
    frame.drop("billing_date").write_parquet(lake / "part-0.parquet")
    refs = {k: s.to_frame() for k, s in KINDS.items()}
    refs["aliases"] = pl.DataFrame(
        {
            "engineer_id": [a[0] for a in aliases],
            "kind": [a[1] for a in aliases],
            "value": [a[2] for a in aliases],
            "valid_from": [None] * len(aliases),
            "valid_to": [None] * len(aliases),
        },
        schema=KINDS["aliases"],
    )
    path = tmp_path / "w.duckdb"
    build(BuildInputs([lake / "part-0.parquet"], USAGE_SCHEMA, refs, warehouse_params("")), path)
    return path


def spend_by(path: Path) -> dict[tuple[str | None, str], Decimal]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {
            (e, a): s
            for e, a, s in con.sql(
                "select engineer_id, attribution, sum(spend_usd) from core.fct_spend group by all"
            ).fetchall()
        }


ALIASES = [("E1", "email", "ann@x.example"), ("E2", "email", "bo@x.example"), ("E3", "api_key_id", "key_ann")]


def test_gateway_rows_split_a_shared_key_by_their_list_cost(tmp_path: Path) -> None:
    rows = [
        # the LLM gateway's own provider key: one metered route used by everyone behind the gateway
        row("openai_usage", "metered", ("api_key_id", "key_gateway"), "6.4", "8"),
        # gateway logs (observational) name who sent the requests: Ann $3, Bo $1 of list cost
        row("litellm_spend", "observational", ("email", "ann@x.example"), None, "3"),
        row("litellm_spend", "observational", ("email", "Bo@X.example"), None, "1"),
    ]
    spend = spend_by(warehouse(tmp_path, rows, ALIASES[:2]))
    # $6.40 of billed spend at list $8: Ann claims 3/8, Bo 1/8, the rest is nobody's
    assert spend == {
        ("E1", "observational"): Decimal("2.4"),
        ("E2", "observational"): Decimal("0.8"),
        (None, "unattributed"): Decimal("3.2"),
    }


def test_claims_beyond_the_pool_share_it_and_nothing_is_left(tmp_path: Path) -> None:
    rows = [
        row("openai_usage", "metered", ("api_key_id", "key_gateway"), "3", "4"),
        row("litellm_spend", "observational", ("email", "ann@x.example"), None, "6"),
        row("litellm_spend", "observational", ("email", "bo@x.example"), None, "2"),
    ]
    spend = spend_by(warehouse(tmp_path, rows, ALIASES[:2]))
    assert spend == {("E1", "observational"): Decimal("2.25"), ("E2", "observational"): Decimal("0.75")}


def test_usage_already_explained_by_an_own_route_claims_nothing(tmp_path: Path) -> None:
    rows = [
        row("openai_usage", "metered", ("api_key_id", "key_ann"), "2", "2.5"),  # Ann's own key
        row("openai_usage", "metered", ("api_key_id", "key_gateway"), "4", "5"),
        row("litellm_spend", "observational", ("email", "ann@x.example"), None, "2.5"),  # all on her own key
        row("litellm_spend", "observational", ("email", "bo@x.example"), None, "5"),
    ]
    spend = spend_by(warehouse(tmp_path, rows, [*ALIASES[:2], ("E1", "api_key_id", "key_ann")]))
    assert spend == {("E1", "alias"): Decimal(2), ("E2", "observational"): Decimal(4)}
    assert sum(spend.values()) == Decimal(6)


@pytest.mark.parametrize("spend_total", ["0.000000000001", "1", "123456.789012345678"[:18]])
def test_the_split_never_changes_the_total(tmp_path: Path, spend_total: str) -> None:
    rows = [row("openai_usage", "metered", ("api_key_id", "key_gateway"), spend_total, "7")]
    rows += [
        row("litellm_spend", "observational", ("email", e), None, "1")
        for e in ("ann@x.example", "bo@x.example", "cy@x.example")
    ]
    spend = spend_by(warehouse(tmp_path, rows, [*ALIASES[:2], ("E4", "email", "cy@x.example")]))
    assert sum(spend.values()) == Decimal(spend_total)
