"""Closed months do not move; late data becomes corrections in the open month; reprice restates and reports."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import undocumented_objects
from tests.e2e.cli_kit import run_cli, warehouse_rows

DAY = datetime(2026, 2, 15, tzinfo=UTC)


def _late_delivery(root: Path, project: str, user: str) -> None:
    """A re-pull for 2026-02-15: one more usage row and one more $1 line item in an OpenAI project."""
    start, end = int(DAY.timestamp()), int(DAY.timestamp()) + 86400
    usage = {
        "object": "page",
        "has_more": False,
        "next_page": None,
        "data": [
            {
                "object": "bucket",
                "start_time": start,
                "end_time": end,
                "results": [
                    {
                        "object": "organization.usage.completions.result",
                        "input_tokens": 1_000_000,
                        "input_cached_tokens": 0,
                        "input_cache_write_tokens": 0,
                        "output_tokens": 0,
                        "num_model_requests": 1,
                        "project_id": project,
                        "user_id": user,
                        "api_key_id": "key_late",
                        "model": "gpt-5-2025-08-07",
                        "batch": None,
                        "service_tier": None,
                    }
                ],
            }
        ],
    }
    costs = {
        "object": "page",
        "has_more": False,
        "next_page": None,
        "data": [
            {
                "object": "bucket",
                "start_time": start,
                "end_time": end,
                "results": [
                    {
                        "object": "organization.costs.result",
                        "amount": {"value": 1.0, "currency": "usd"},
                        "line_item": "late adjustment",
                        "project_id": project,
                        "api_key_id": None,
                        "quantity": None,
                        "quantity_unit": None,
                    }
                ],
            }
        ],
    }
    for source, body in (("openai_usage", usage), ("openai_costs", costs)):
        target = root / "data" / "landing" / source / "late.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(body))


def test_close_late_data_corrections_and_reprice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / ".dagster"))
    monkeypatch.delenv("TOKENCOMP_CONFIG", raising=False)
    code, _ = run_cli(tmp_path, "demo", "--engineers", "16", "--days", "40", "--end", "2026-03-10", "--seed", "5")
    assert code == 0
    feb = "date_trunc('month', billing_date) = date '2026-02-01'"
    books_before = warehouse_rows(
        tmp_path,
        f"select provider, engineer_id, sum(spend_usd) from core.fct_spend where {feb} group by all order by all",
    )
    monthly_before = warehouse_rows(
        tmp_path, "select * from mart.engineer_monthly where month = date '2026-02-01' order by all"
    )
    billed_before = warehouse_rows(tmp_path, "select sum(billed_usd) from core.fct_billed_daily")[0][0]

    code, out = run_cli(tmp_path, "close", "--month", "2026-02")
    assert code == 0 and out.startswith("closed 2026-02: anthropic $")
    code, _ = run_cli(tmp_path, "close", "--month", "2026-02")
    assert code == 1  # already closed

    truth = json.loads((tmp_path / "data" / "demo" / "truth.json").read_text())
    user = next(k.split(":", 1)[1] for k in truth["principals"] if k.startswith("openai_user_id:"))
    project = warehouse_rows(
        tmp_path, f"select any_value(scope_id) from core.fct_usage_daily where principal_id = '{user}'"
    )[0][0]
    _late_delivery(tmp_path, project, user)
    code, _ = run_cli(tmp_path, "run", "--date", "2026-02-15")
    assert code == 0
    # the frozen books are a build input, never a published object
    assert undocumented_objects(tmp_path / "data" / "warehouse.duckdb") == []

    # the closed month's books and marts do not move
    assert (
        warehouse_rows(
            tmp_path,
            f"select provider, engineer_id, sum(spend_usd) from core.fct_spend where {feb} group by all order by all",
        )
        == books_before
    )
    assert warehouse_rows(
        tmp_path, "select * from mart.engineer_monthly where month = date '2026-02-01' order by all"
    ) == (monthly_before)
    # the late dollar is posted into the open month (March) as corrections, and totals still equal the bill
    corrections = warehouse_rows(
        tmp_path,
        "select billing_date, correction_of_month, sum(spend_usd) from core.fct_spend "
        "where charge_class = 'correction' group by all",
    )
    assert [(str(d), str(m), s) for d, m, s in corrections] == [("2026-03-01", "2026-02-01", Decimal(1))]
    assert warehouse_rows(tmp_path, "select sum(spend_usd) from core.fct_spend")[0][0] == billed_before + 1
    assert warehouse_rows(tmp_path, "select sum(billed_usd) from core.fct_billed_daily")[0][0] == billed_before + 1

    # re-pricing February restates it, reports the diff, and the corrections disappear
    code, out = run_cli(tmp_path, "reprice", "--month", "2026-02")
    assert code == 0
    assert undocumented_objects(tmp_path / "data" / "warehouse.duckdb") == []
    assert "change per provider" in out and "change per engineer" in out
    assert "re-priced 2026-02: net change $1.00" in out
    assert warehouse_rows(tmp_path, "select count(*) from core.fct_spend where charge_class = 'correction'")[0][0] == 0
    after = dict(
        warehouse_rows(tmp_path, f"select provider, sum(spend_usd) from core.fct_spend where {feb} group by 1")
    )
    before = {}
    for provider, _, spend in books_before:
        before[provider] = before.get(provider, Decimal(0)) + spend
    assert after == {**before, "openai": before["openai"] + 1}

    code, _ = run_cli(tmp_path, "reprice", "--month", "2026-01")
    assert code == 1  # not closed
