"""The warehouse in Dagster: one asset per published table, the whole graph run night after night in process,
and a failing blocking check that publishes nothing and stops everything downstream."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import polars as pl
import pytest

from pipelines.config import Settings, load_settings
from pipelines.definitions import build_definitions, defs
from pipelines.defs.resources import TokencompResource
from pipelines.demo import generate
from pipelines.runner import explain
from pipelines.services.reference import load_reference
from pipelines.services.warehouse import build_inputs
from warehouse.build import build

NIGHTS = (date(2026, 3, 8), date(2026, 3, 9), date(2026, 3, 10))
LANDED_AT = "2026-03-11T06:00:00+00:00"
WAREHOUSE_GROUPS = {"warehouse", "marts"}
BLOCKING = {
    dg.AssetCheckKey(dg.AssetKey(["core", "dim_alias"]), "identity_conflicts"),
    dg.AssetCheckKey(dg.AssetKey(["core", "fct_spend"]), "tie_out"),
    dg.AssetCheckKey(dg.AssetKey(["mart", "engineer_monthly"]), "marts_tie_out"),
}


def _catalog(path: Path) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str, str, str]]]:
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.sql("select schema_name, table_name, comment from duckdb_tables() order by all").fetchall()
        columns = con.sql(
            "select schema_name, table_name, column_name, data_type, comment from duckdb_columns() "
            "order by schema_name, table_name, column_index"
        ).fetchall()
    return tables, columns


def test_the_asset_graph_has_one_asset_per_published_table_with_its_columns_and_meaning(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    build(build_inputs(None), path)  # a real build (on no data: the schema does not depend on data)
    tables, columns = _catalog(path)
    specs = {s.key: s for s in defs.resolve_all_asset_specs() if s.group_name in WAREHOUSE_GROUPS}
    assert set(specs) == {dg.AssetKey([schema, table]) for schema, table, _ in tables}
    assert len(specs) == 24
    for schema, table, comment in tables:
        spec = specs[dg.AssetKey([schema, table])]
        assert spec.description == comment and len(comment) > 40
        assert spec.group_name == {"core": "warehouse", "mart": "marts"}[schema]
        assert spec.kinds == {"duckdb", "sql"} and spec.owners == ["team:data-platform"]
        schema_value = spec.metadata["dagster/column_schema"]
        assert [(c.name, c.type, c.description) for c in schema_value.columns] == [
            (column, dtype, col_comment) for s, t, column, dtype, col_comment in columns if (s, t) == (schema, table)
        ]
    # one multi-asset: one step builds them all, in the DuckDB writers' pool, with the blocking checks on it
    assets = {id(defs.get_assets_def(key)) for key in specs}
    assert len(assets) == 1
    warehouse = defs.get_assets_def(dg.AssetKey(["core", "fct_spend"]))
    assert warehouse.op.name == "warehouse" and warehouse.op.pool == "duckdb_warehouse"
    assert set(warehouse.check_keys) == BLOCKING
    assert all(spec.blocking for spec in warehouse.check_specs)
    # lineage from the SQL: what each table reads, and the lake / reference data behind the src_* views
    deps = {key.to_user_string(): {d.asset_key.to_user_string() for d in s.deps} for key, s in specs.items()}
    assert deps["core/fct_usage_daily"] == {"core/dim_alias", "core/dim_scope", "lake/usage"}
    assert deps["core/fct_spend"] == {"core/dim_route_member", "core/fct_usage_daily"}  # via temp spend_computed
    assert deps["core/dim_engineer"] == {"reference/files"}
    assert deps["mart/team_monthly"] == {"mart/engineer_monthly"}


@dataclass
class Night:
    """One nightly run and what an analyst would have read from the published file right after it."""

    day: date
    result: dg.ExecuteInProcessResult
    file_rows: dict[str, int]
    file_records: int
    lake_rows: int
    lake_groups: int
    lake_days: list[date]


@dataclass
class Nights:
    settings: Settings
    truth: dict[str, Any]
    defs: dg.Definitions
    instance: dg.DagsterInstance
    nights: list[Night]


# core.fct_usage_daily's grain: a lake row per day, source, role, model, principal, scope, engineer and pricing
USAGE_GRAIN = (
    "billing_date",
    "usage_date",
    "source",
    "spend_role",
    "provider",
    "publisher",
    "model",
    "model_raw",
    "principal_kind",
    "principal_id",
    "scope_kind",
    "scope_id",
    "engineer_id",
    "pricing_flag",
    "cost_basis",
    "billing_model",
    "charge_category",
    "unit",
)


def _file_rows(settings: Settings) -> tuple[dict[str, int], int]:
    """Rows per table of the published file, and the lake records core.fct_usage_daily says it holds."""
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        tables = con.sql("select schema_name, table_name from duckdb_tables()").fetchall()
        rows = {f"{s}/{t}": con.sql(f"select count(*) from {s}.{t}").fetchall()[0][0] for s, t in tables}
        return rows, int(con.sql("select sum(records) from core.fct_usage_daily").fetchall()[0][0])


def _lake_counts(settings: Settings) -> tuple[int, int, list[date]]:
    """Rows of the lake, its distinct rows at core.fct_usage_daily's grain (Polars, not the warehouse SQL), and
    its billing days."""
    lake = pl.read_parquet(settings.lake / "usage" / "**" / "*.parquet", hive_partitioning=True)
    return lake.height, lake.select(USAGE_GRAIN).unique().height, sorted(lake["billing_date"].unique())


@dg.asset(key=["exports", "downstream_of_marts"], deps=[dg.AssetKey(["mart", "engineer_monthly"])])
def downstream_of_marts() -> None:
    """A finance output reading the marts: it must never run on a build that failed its checks."""


@pytest.fixture(scope="module")
def three_nights(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nights]:
    """A small demo company's files for 2026-03-08..10 landed once; then the nightly job for each day in turn,
    in process against a real (test) Dagster instance, as the schedule would run it night after night."""
    mp = pytest.MonkeyPatch()
    root = tmp_path_factory.mktemp("three_nights")
    mp.chdir(root)
    mp.delenv("TOKENCOMP_CONFIG", raising=False)
    settings = load_settings(data_dir=root / "data")
    truth = generate(settings.landing, engineers=6, days=3, end=NIGHTS[-1], seed=11).data
    resource = TokencompResource(data_dir=str(settings.data_dir), landed_at=LANDED_AT)
    location = dg.Definitions.merge(build_definitions(resource), dg.Definitions(assets=[downstream_of_marts]))
    try:
        with dg.instance_for_test() as instance:
            nights = []
            for day in NIGHTS:
                result = location.resolve_job_def("nightly").execute_in_process(
                    instance=instance, partition_key=day.isoformat(), raise_on_error=False
                )
                nights.append(Night(day, result, *_file_rows(settings), *_lake_counts(settings)))
            yield Nights(settings, truth, location, instance, nights)
    finally:
        mp.undo()


def _materializations(result: dg.ExecuteInProcessResult) -> dict[str, dict[str, Any]]:
    return {
        e.asset_key.to_user_string(): {k: v.value for k, v in e.materialization.metadata.items()}
        for e in result.get_asset_materialization_events()
        if e.asset_key is not None
    }


def test_three_consecutive_nights_materialize_every_table_with_exact_rows_and_totals(three_nights: Nights) -> None:
    truth = three_nights.truth["billed_usd_by_day"]
    tables = set(three_nights.nights[0].file_rows)
    assert len(tables) == 24
    for n, night in enumerate(three_nights.nights, start=1):
        assert night.result.success, night.day
        meta = _materializations(night.result)
        assert {"lake/usage", "reference/files", "exports/downstream_of_marts"} | tables <= set(meta)
        # every table's reported row count is what the published file holds
        assert {t: meta[t]["dagster/row_count"] for t in tables} == night.file_rows
        # usage: every lake record once, at its daily grain; the lake holds the nights built so far
        assert meta["core/fct_usage_daily"]["dagster/row_count"] == night.lake_groups
        assert night.file_records == night.lake_rows
        assert night.lake_days == list(NIGHTS[:n])
        # dollars: what the providers billed on the days built so far, from the demo's own simulation
        billed = sum(Decimal(by_day[d.isoformat()]) for by_day in truth.values() for d in NIGHTS[:n])
        assert Decimal(meta["core/fct_spend"]["total_spend_usd"]) == billed
        # the lake's own materialization: that night's day, per source, as the demo billed it
        tonight = sum(Decimal(by_day[night.day.isoformat()]) for by_day in truth.values())
        assert Decimal(meta["lake/usage"]["total_billed_cost_usd"]) == tonight
        header = meta["lake/usage"]["preview"].splitlines()[0]
        assert [cell.strip() for cell in header.strip("|").split("|")] == [
            "source",
            "rows",
            "list_cost_usd",
            "billed_cost_usd",
        ]
        assert Decimal(meta["core/fct_billed_daily"]["total_billed_usd"]) == billed
        assert Decimal(meta["mart/reconciliation"]["total_billed_usd"]) == billed
        assert (
            Decimal(meta["mart/engineer_monthly"]["total_spend_usd"])
            + Decimal(meta["mart/unattributed"]["total_spend_usd"])
            == billed
        )
        # a small preview, with nobody's name or email in Dagster's event log
        preview = meta["core/dim_engineer"]["preview"]
        assert preview.startswith("| engineer_id |") and len(preview.splitlines()) == 2 + 5
        assert "email" not in preview and "@" not in preview
        checks = {
            (c.asset_key.to_user_string(), c.check_name): c.passed for c in night.result.get_asset_check_evaluations()
        }
        blocking = {
            ("core/dim_alias", "identity_conflicts"): True,
            ("core/fct_spend", "tie_out"): True,
            ("mart/engineer_monthly", "marts_tie_out"): True,
            ("mart/engineer_monthly", "warehouse_readable"): True,
            ("lake/usage", "fx_rates"): True,
            ("reference/files", "negative_tokens"): True,
        }
        assert blocking.items() <= checks.items()
        # the WARN checks were evaluated too (whatever they found, they stop nothing: every table materialized)
        assert {("lake/usage", "unpriced_models"), ("mart/unattributed", "unattributed_share")} <= set(checks)
    # the nights differ: each one adds its day
    spend = [Decimal(_materializations(n.result)["core/fct_spend"]["total_spend_usd"]) for n in three_nights.nights]
    assert spend[0] < spend[1] < spend[2]


@pytest.mark.parametrize(
    ("case", "check", "why"),
    [
        ("known_key", "core/dim_alias:identity_conflicts", "identity conflict: api_key_id "),
        ("unknown_key", "mart/engineer_monthly:marts_tie_out", "marts do not sum to core.fct_spend: engineer E9999 "),
    ],
)
def test_a_failing_blocking_check_publishes_nothing_and_stops_everything_downstream(
    three_nights: Nights, tmp_path: Path, case: str, check: str, why: str
) -> None:
    settings, truth = three_nights.settings, three_nights.truth
    # E9999 (on no roster) claims a key: one an engineer already holds (two engineers on one identity), or an
    # unknown one (spend the per-engineer mart cannot show)
    key = (
        next(k for k in truth["principals"] if k.startswith("api_key_id:")).split(":", 1)[1]
        if case == "known_key"
        else truth["unknown_keys"][0]
    )
    aliases = settings.reference / "aliases.parquet"
    frame = pl.read_parquet(aliases)
    stray = pl.DataFrame(
        {"engineer_id": ["E9999"], "kind": ["api_key_id"], "value": [key], "valid_from": [date(2020, 1, 1)]},
        schema={k: v for k, v in frame.schema.items() if k != "valid_to"},
    )
    bad = tmp_path / "aliases.csv"
    pl.concat([frame, stray], how="diagonal").write_csv(bad)
    load_reference(settings, "aliases", [bad])
    before = settings.warehouse_path.read_bytes()
    try:
        result = three_nights.defs.resolve_job_def("nightly").execute_in_process(
            instance=three_nights.instance, partition_key=NIGHTS[-1].isoformat(), raise_on_error=False
        )
    finally:
        frame.write_parquet(aliases)
    assert not result.success
    assert settings.warehouse_path.read_bytes() == before  # the previous file is untouched
    evaluations = {f"{c.asset_key.to_user_string()}:{c.check_name}": c for c in result.get_asset_check_evaluations()}
    failed = evaluations[check]
    assert not failed.passed and failed.severity == dg.AssetCheckSeverity.ERROR and failed.blocking
    assert failed.description is not None and failed.description.startswith(why)
    assert {k for k, c in evaluations.items() if not c.passed} == {check}
    # nothing of the warehouse or after it is materialized; the readable check never ran
    materialized = set(_materializations(result))
    assert materialized.isdisjoint(three_nights.nights[0].file_rows)
    assert "exports/downstream_of_marts" not in materialized
    assert "mart/engineer_monthly:warehouse_readable" not in evaluations
    assert result.is_node_failed("warehouse") and not result.is_node_success("exports__downstream_of_marts")
    # the run says which check and why (tokencomp run exits 3 on it)
    _, failed_checks, error = explain(result.all_events)
    assert check in failed_checks and why in error
