"""The Claude Code analytics report in a whole demo run: it loads, attributes, and never moves spend."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipelines.config import Settings, load_settings
from pipelines.services.lake import build_window
from pipelines.services.warehouse import build_and_publish
from tests.conftest import demo_data

DEMO = ["demo", "--engineers", "30", "--days", "10", "--end", "2025-03-10"]
# core.fct_spend of this demo: sum, rows (recorded on main before the source existed, at cda4d5d; re-recorded
# when the demo gained its alert roles, issue 11, which move every file of the demo on purpose)
SPEND_BEFORE = (Decimal("20560.623348363900"), 568)


def _q(settings: Settings, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.sql(sql).fetchall()


def test_demo_with_the_report_ties_out_and_spend_does_not_change(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TOKENCOMP_CONFIG", raising=False)
    # this demo once for the session (tests/e2e/test_hostile_inputs.py starts from it too)
    settings = load_settings(data_dir=demo_data(tmp_path_factory, DEMO))
    truth = json.loads((settings.data_dir / "demo" / "truth.json").read_text())

    # ties out: the spend is the bill, to the 10^-12 dollar, and what it was before the source existed
    ((total, rows),) = _q(settings, "select sum(spend_usd), count(*) from core.fct_spend")
    assert total == sum(Decimal(v) for v in truth["billed_usd"].values())
    assert (total, rows) == SPEND_BEFORE
    # every report row was loaded (none rejected), is observational and names its engineer
    assert truth["counts"]["rows"]["anthropic_claude_code"] == 58
    assert _q(
        settings,
        "select spend_role, principal_kind, count(*), count(engineer_id), sum(output_tokens)"
        " from core.fct_usage_daily where source = 'anthropic_claude_code' group by all",
    ) == [("observational", "email", 58, 58, 337015)]
    # the same Claude Code output tokens, per engineer and day, as the session logs (another route)
    per_day = (
        "select engineer_id, billing_date, sum(output_tokens) from core.fct_usage_daily"
        " where source = $s group by all order by all"
    )
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        report = con.execute(per_day, {"s": "anthropic_claude_code"}).fetchall()
        logs = con.execute(per_day, {"s": "claude_code_logs"}).fetchall()
    assert report == logs

    # the same raw data without the source: core.fct_spend is identical, row for row
    without = replace(
        settings,
        data_dir=tmp_path / "without",
        enabled_sources=tuple(s for s in settings.enabled_sources if s != "anthropic_claude_code"),
    )
    shutil.copytree(settings.raw, without.raw)
    shutil.copytree(settings.reference, without.reference)
    build_window(without, date(2025, 3, 1), date(2025, 3, 10))
    build_and_publish(without)
    every_row = "select * from core.fct_spend order by all"
    assert _q(without, every_row) == _q(settings, every_row)
