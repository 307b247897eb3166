"""The demo over a quarter: mart.alerts raises exactly the generator's ground truth per rule, and the analyst
file beside the warehouse names nobody (pseudonyms keyed by the configured variable, no small groups)."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from datetime import date
from decimal import ROUND_DOWN, Decimal
from random import Random
from typing import Any

import duckdb
import polars as pl
import pytest

from pipelines import cli
from pipelines.cli import main
from pipelines.config import DEFAULT_ALERT_RULES, Settings, load_settings
from pipelines.demo.alerts import month_base
from pipelines.demo.formats import Ids
from pipelines.demo.org import Window, build_company
from pipelines.services.warehouse import build_and_publish, throwaway_pseudonym_key
from tests.conftest import duckdb_cli
from warehouse.analyst import pseudonym

# 75 days ending 2026-03-10: December (6 days), January, February, March (10 days); surgers jump on 1 February
DEMO = ["demo", "--engineers", "30", "--days", "75", "--end", "2026-03-10", "--seed", "3"]
KEY = "an analyst key for this test only"


@pytest.fixture(scope="module")
def quarter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, dict[str, Any]]]:
    """`tokencomp demo` over a quarter, with the pseudonym key in the environment."""
    mp = pytest.MonkeyPatch()
    root = tmp_path_factory.mktemp("demo_quarter")
    mp.chdir(root)
    mp.setenv("DAGSTER_HOME", str(root / ".dagster"))
    mp.setenv("TOKENCOMP_PSEUDONYM_KEY", KEY)
    mp.delenv("TOKENCOMP_CONFIG", raising=False)
    cli.out.file = io.StringIO()
    try:
        assert main(["--data-dir", str(root / "data"), *DEMO]) == 0
    finally:
        cli.out.file = None  # type: ignore[assignment]
    try:
        settings = load_settings(data_dir=root / "data")
        yield settings, json.loads((settings.data_dir / "demo" / "truth.json").read_text())
    finally:
        mp.undo()


def test_mart_alerts_raises_exactly_the_ground_truth_per_rule(quarter: tuple[Settings, dict[str, Any]]) -> None:
    settings, truth = quarter
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        raised = con.sql("select rule, list(distinct engineer_id order by engineer_id) from mart.alerts group by 1")
        by_rule = dict(raised.fetchall())
    for rule in DEFAULT_ALERT_RULES:
        assert truth["alerts"][rule.rule], f"the demo raises nobody under {rule.rule}"
        assert by_rule.get(rule.rule, []) == truth["alerts"][rule.rule], rule.rule
    # the roles the generator sized for each rule
    assert truth["alerts"]["spend_over_base"] == truth["tokenmaxxers"]
    assert truth["alerts"]["run_rate_half_base"] == sorted(truth["tokenmaxxers"] + truth["heavy_users"])
    assert truth["alerts"]["month_over_month_jump"] == truth["surgers"]


def test_the_generator_measures_every_engineer_month_against_the_warehouse_base(
    quarter: tuple[Settings, dict[str, Any]],
) -> None:
    """The truth's band base (the generator's own, by the documented rule) is the stored one, to the 12th place,
    promotion months included (each level's base weighted by its days)."""
    settings, truth = quarter
    rng = Random(3)
    org = build_company(rng, Ids(rng), name="Acme Robotics", engineers=30, window=Window.ending(date(2026, 3, 10), 75))
    expected = {}
    for e in org.engs:
        for month in sorted({d.replace(day=1) for d in org.window.days}):
            employed = [d for d in org.window.days if d.replace(day=1) == month and e.employed(d)]
            if employed:
                expected[(month, e.eid)] = month_base(org, e, employed).quantize(Decimal("1E-12"), ROUND_DOWN)
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        stored = dict(
            ((m, e), b)
            for m, e, b in con.sql("select month, engineer_id, base_p50 from core.engineer_band_monthly").fetchall()
        )
    assert stored == expected
    promoted = {p["engineer_id"] for p in truth["promotions"]}
    assert promoted and any(b != b.to_integral_value() for (_, e), b in expected.items() if e in promoted)


def test_short_window_alerts_say_so(quarter: tuple[Settings, dict[str, Any]]) -> None:
    settings, _ = quarter
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        flags = con.sql(
            "select month, short_window, bool_and(contains(detail, 'short window') = short_window) "
            "from mart.alerts where rule <> 'month_over_month_jump' group by all order by all"
        ).fetchall()
    # December has 6 days of data: every run rate of December rests on fewer than 14 roster days
    assert [(m.isoformat(), short, said) for m, short, said in flags] == [
        ("2025-12-01", True, True),
        ("2026-01-01", False, True),
        ("2026-02-01", False, True),
        ("2026-03-01", False, True),
    ]


def _roster(settings: Settings) -> pl.DataFrame:
    return pl.read_parquet(settings.reference / "roster.parquet")


def test_the_analyst_file_names_nobody_and_holds_no_small_group(quarter: tuple[Settings, dict[str, Any]]) -> None:
    settings, truth = quarter
    roster = _roster(settings)
    names = set(roster["name"].to_list())
    emails = {e.lower() for e in roster["email"].to_list()}
    ids = set(roster["engineer_id"].to_list())
    cells = 0
    with duckdb.connect(str(settings.analyst_path), read_only=True) as con:
        schemas = {s for (s,) in con.sql("select distinct schema_name from duckdb_tables()").fetchall()}
        tables = con.sql("select table_name from duckdb_tables() where schema_name = 'mart'").fetchall()
        for (table,) in tables:
            frame = con.sql(f"select * from mart.{table}").pl()
            for column in frame.columns:
                if frame[column].dtype != pl.String:
                    continue
                for cell in frame[column].drop_nulls().to_list():
                    cells += 1
                    # an engineer id anywhere in the cell (inside the JSON of mart.focus.Tags too), not just all of it
                    assert not any(i in cell for i in ids), (table, column, cell)
                    assert not any(n in cell for n in names), (table, column, cell)
                    assert not any(e in cell.lower() for e in emails), (table, column, cell)
        small = con.sql(
            "select count(*) from mart.comp_mix where grouping in ('team', 'level') and engineers < 5"
        ).fetchall()[0][0]
        small += con.sql("select count(*) from mart.team_monthly where engineers < 5").fetchall()[0][0]
        alerted = con.sql("select distinct engineer_id from mart.alerts order by 1").fetchall()
    assert schemas == {"mart"} and cells > 1000 and small == 0
    # the same engineers the warehouse alerts on, under HMAC-SHA256 pseudonyms of the configured key
    expected = {
        pseudonym(KEY.encode(), "engineer", e) for rule in DEFAULT_ALERT_RULES for e in truth["alerts"][rule.rule]
    }
    assert {a for (a,) in alerted} == expected
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        wh_small = con.sql("select count(*) from mart.team_monthly where engineers < 5").fetchall()[0][0]
    assert wh_small > 0  # the full warehouse keeps the small teams the analyst file leaves out


def test_the_focus_tags_of_the_analyst_file_hold_the_pseudonym_where_the_warehouse_holds_the_engineer(
    quarter: tuple[Settings, dict[str, Any]],
) -> None:
    settings, _ = quarter
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        warehouse = con.sql("select Tags from mart.focus order by rowid").fetchall()
    with duckdb.connect(str(settings.analyst_path), read_only=True) as con:
        analyst = con.sql("select Tags from mart.focus order by rowid").fetchall()
    expected = []
    for (tags,) in warehouse:
        members = json.loads(tags)
        if "engineer" in members:
            members["engineer"] = pseudonym(KEY.encode(), "engineer", members["engineer"])
        expected.append((json.dumps(members, separators=(",", ":")),))
    assert analyst == expected
    tagged = sum('"engineer":' in tags for (tags,) in warehouse)
    assert 0 < tagged < len(warehouse)  # engineers' rows and rows no engineer carries, both


def test_the_analyst_file_opens_read_only_in_the_duckdb_cli_and_the_warehouse_is_owner_only(
    quarter: tuple[Settings, dict[str, Any]],
) -> None:
    settings, _ = quarter
    lines = duckdb_cli(settings.analyst_path, "select version(), count(*) from mart.comp_mix")
    assert lines[1].startswith("v1.5.")
    assert oct(settings.warehouse_path.stat().st_mode & 0o777) == "0o600"
    with duckdb.connect(str(settings.analyst_path), read_only=True) as con:
        comments = con.sql(
            "select count(*), count(comment) from duckdb_columns() where schema_name = 'mart'"
        ).fetchall()
    assert comments[0][0] == comments[0][1] > 0  # the analyst file is documented like the warehouse


def test_without_the_key_the_analyst_file_is_not_built_and_the_run_says_so(
    quarter: tuple[Settings, dict[str, Any]], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings, _ = quarter
    before = settings.analyst_path.read_bytes()
    monkeypatch.chdir(settings.data_dir.parent)
    monkeypatch.delenv("TOKENCOMP_PSEUDONYM_KEY", raising=False)
    build_and_publish(settings)
    err = capsys.readouterr().err
    assert err == (
        "analyst file not built: set TOKENCOMP_PSEUDONYM_KEY to a secret key for its pseudonyms "
        "(data/analyst.duckdb is left as it was)\n"
    )
    assert settings.analyst_path.read_bytes() == before
    assert not (settings.build_dir / "analyst.duckdb").exists()


def test_the_demo_makes_a_throwaway_key_when_there_is_none(
    quarter: tuple[Settings, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, _ = quarter
    monkeypatch.delenv("TOKENCOMP_PSEUDONYM_KEY", raising=False)
    said: list[str] = []
    with throwaway_pseudonym_key(settings, said.append):
        inside = os.environ["TOKENCOMP_PSEUDONYM_KEY"]
    assert len(inside) == 64 and "TOKENCOMP_PSEUDONYM_KEY" not in os.environ
    assert said == [
        "analyst file: pseudonyms under a throwaway key made for this demo (TOKENCOMP_PSEUDONYM_KEY is not set)"
    ]
