"""Non-USD bills through the real nightly run (Dagster in process): converted at the day's rate, or blocking.

Before fx_rates, a EUR line landed with billed_cost_usd NULL: spend dropped by exactly that line, the
tie-out passed and the run exited 0.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, localcontext
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import main
from pipelines.config import Settings

ECB = Path(__file__).resolve().parents[1] / "fixtures" / "fx" / "eurofxref-hist.csv"
SAT, SUN = date(2025, 3, 8), date(2025, 3, 9)
EUR_PER_USD_FRIDAY = Decimal("0.922594335271")  # 1 / 1.0839 (ECB, 7 March 2025), at 12 places


def _epoch(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def _land(settings: Settings) -> None:
    """An OpenAI costs page for Sunday and an Anthropic cost page for Saturday, each with a EUR line and a line
    beyond the money maximum (1e25 dollars used to fail every later run with a DECIMAL overflow; 10^23 cents
    landed as NULL)."""
    openai = settings.landing / "openai_costs" / "costs-2025-03-09.json"
    openai.parent.mkdir(parents=True)
    openai.write_text(
        json.dumps(
            {
                "object": "page",
                "data": [
                    {
                        "object": "bucket",
                        "start_time": _epoch(SUN),
                        "end_time": _epoch(SUN) + 86400,
                        "results": [
                            {"amount": {"value": 1.5, "currency": "usd"}, "line_item": "usd", "project_id": "p1"},
                            {"amount": {"value": 123.45, "currency": "eur"}, "line_item": "euro", "project_id": "p1"},
                            {"amount": {"value": 1e25, "currency": "usd"}, "line_item": "huge", "project_id": "p1"},
                        ],
                    }
                ],
                "has_more": False,
                "next_page": None,
            }
        )
    )
    anthropic = settings.landing / "anthropic_cost" / "cost-2025-03-08.json"
    anthropic.parent.mkdir(parents=True)
    anthropic.write_text(
        json.dumps(
            {
                "data": [
                    {
                        "starting_at": "2025-03-08T00:00:00Z",
                        "ending_at": "2025-03-09T00:00:00Z",
                        "results": [
                            {"amount": "250", "currency": "USD", "description": "usd", "workspace_id": "w1"},
                            {"amount": "98765.4321", "currency": "EUR", "description": "euro", "workspace_id": "w1"},
                            {"amount": "1" + "0" * 23, "currency": "USD", "description": "huge", "workspace_id": "w1"},
                        ],
                    }
                ],
                "has_more": False,
                "next_page": None,
            }
        )
    )


def _usd(amount: str) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 50
        return (Decimal(amount) / EUR_PER_USD_FRIDAY).quantize(Decimal("1E-12"), rounding=ROUND_HALF_UP)


@pytest.fixture
def dagster_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / ".dagster"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


def test_weekend_eur_lines_convert_at_fridays_ecb_rate_and_reach_spend(
    settings: Settings, dagster_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _land(settings)
    data = ["--data-dir", str(settings.data_dir)]
    assert main([*data, "reference", "load", "fx_rates", str(ECB)]) == 0
    assert main([*data, "run", "--from", "2025-03-08", "--to", "2025-03-09"]) == 0

    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        lake = con.sql(
            "select billing_date, source, currency, amount_original, fx_rate, billed_cost_usd "
            f"from read_parquet('{settings.lake}/usage/*/*.parquet', hive_partitioning = true) order by all"
        ).fetchall()
        billed = con.sql("select provider, billed_usd from core.fct_billed_daily order by provider").fetchall()
    # the ECB publishes nothing at weekends: Saturday and Sunday convert at Friday's rate
    assert lake == [
        (SAT, "anthropic_cost", "EUR", Decimal("987.654321"), EUR_PER_USD_FRIDAY, _usd("987.654321")),
        (SAT, "anthropic_cost", "USD", Decimal("2.5"), Decimal(1), Decimal("2.5")),
        (SUN, "openai_costs", "EUR", Decimal("123.45"), EUR_PER_USD_FRIDAY, _usd("123.45")),
        (SUN, "openai_costs", "USD", Decimal("1.5"), Decimal(1), Decimal("1.5")),
    ]
    # 123.45 x 1.0839 = 133.807455; the rate is kept at 12 places (as stored), so the USD is amount / rate
    assert _usd("123.45") == Decimal("133.807454999968")
    # the amounts beyond the maximum were rejected at their line, field named; the rest of each page loaded
    rejects = [json.loads(line) for line in (settings.raw / "rejects.jsonl").read_text().splitlines()]
    assert sorted((r["source"], r["file"], r["line"], r["field"], r["reason"]) for r in rejects) == [
        ("anthropic_cost", "anthropic_cost/cost-2025-03-08.json", 3, "amount", "out of range (money is below 10^12)"),
        (
            "openai_costs",
            "openai_costs/costs-2025-03-09.json",
            3,
            "amount.value",
            "out of range (money is below 10^12)",
        ),
    ]
    # spend no longer drops by the EUR line: the bill in the warehouse is the USD line plus the converted one
    assert billed == [
        ("anthropic", Decimal("2.5") + _usd("987.654321")),
        ("openai", Decimal("1.5") + _usd("123.45")),
    ]


def test_a_eur_line_with_a_stale_rate_blocks_the_run_with_exit_3_and_publishes_nothing(
    settings: Settings, dagster_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _land(settings)
    # rates arrive through landing/fx_rates/ like any reference kind; the latest is 8 and 9 days old
    inbox = settings.landing / "fx_rates" / "rates.csv"
    inbox.parent.mkdir(parents=True)
    inbox.write_text("date,currency,units_per_usd\n2025-02-28,EUR,0.960522\n")
    data = ["--data-dir", str(settings.data_dir)]

    assert main([*data, "run", "--from", "2025-03-08", "--to", "2025-03-09"]) == 3
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]
    # one line naming the blocking check, its asset, why, and the first line lacking a rate (its delivery)
    assert re.fullmatch(
        r"tokencomp: run [0-9a-f]{8} failed: blocking check fx_rates \(lake/usage\): "
        + re.escape(
            "no EUR exchange rate for 2025-03-08: the latest EUR rate is from 2025-02-28, and a rate may be "
            "at most 7 days old (fx.max_rate_age_days) (2 billed lines in all lack a rate); load one with "
            "`tokencomp reference load fx_rates PATH` and rerun (first such line: anthropic_cost/cost-2025-03-08.json, "
            "record "
        )
        + r"[0-9a-f]{12}\)",
        last,
    )
    assert not settings.warehouse_path.exists()  # nothing downstream was published
    assert not list((settings.lake / "usage").glob("billing_date=*"))  # and no NULL-dollar line reached the lake
    assert main([*data, "status"]) == 0
    status = " ".join(capsys.readouterr().out.split())
    assert "FAILURE" in status and "no EUR exchange rate for 2025-03-08" in status
    assert "Failed: blocking check fx_rates (lake/usage): no EUR exchange rate for 2025-03-08" in status

    # the maximum age is configurable: 9 days lets Sunday use 28 February's rate
    Path("tokencomp.toml").write_text("[fx]\nmax_rate_age_days = 9\n")
    assert main([*data, "run", "--from", "2025-03-08", "--to", "2025-03-09"]) == 0
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        got = con.execute("select sum(billed_usd) from core.fct_billed_daily where provider = 'openai'").fetchone()
    assert got == (
        Decimal("1.5") + (Decimal("123.45") / Decimal("0.960522")).quantize(Decimal("1E-12"), ROUND_HALF_UP),
    )
