"""Build the DuckDB warehouse from the lake and reference data, then publish it atomically.

The file is built in a scratch folder and moved over the published one with `os.replace`, so readers
see the previous complete build or the new one, never a mix. It is written in DuckDB storage v1.4.0 so
every DuckDB >= 1.4 client (including the 1.5 CLI) can open it read-only.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from importlib.resources import files
from pathlib import Path

import duckdb
import polars as pl

from transforms.common import connect
from transforms.money import install_money_macros
from warehouse.families import register_model_families

# Build order. Each file creates one table (plus its comments) from the src_* views and earlier tables.
MODELS: tuple[str, ...] = (
    "core/dim_engineer",
    "core/dim_alias",
    "core/dim_route_member",
    "core/dim_scope",
    "core/fct_salary_submission",
    "core/dim_salary_band_history",
    "core/dim_salary_band",
    "core/dim_model",
    "core/fct_usage_daily",
    "core/fct_billed_daily",
    "core/fct_invoice",
    "core/spend_computed",
    "core/fct_spend",
    "core/engineer_band_monthly",
    "mart/engineer_monthly",
    "mart/engineer_provider_monthly",
    "mart/reconciliation",
    "mart/unattributed",
    "mart/unpriced_models",
    "mart/focus",
    "mart/team_monthly",
    "mart/comp_mix",
    "mart/chargeback",
    "mart/leaderboard",
    "mart/alerts",
)
SCHEMAS: tuple[str, ...] = ("core", "mart")
STORAGE_VERSION = "v1.4.0"
_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)")


class BlockingCheckError(RuntimeError):
    """A blocking (ERROR) check failed: nothing is published. `check` names it."""

    check = "blocking"


class TieOutError(BlockingCheckError):
    """The warehouse does not reproduce the lake's dollars, or spend does not equal the bill."""

    check = "tie_out"


class IdentityConflictError(BlockingCheckError):
    """Two engineers claim the same identity on the same day, or a principal is both one engineer's (an alias)
    and a shared route (route members); spend would fan out or be charged twice."""

    check = "identity_conflicts"


class MartsTieOutError(BlockingCheckError):
    """The marts (engineers' monthly spend plus mart.unattributed) do not sum to core.fct_spend per provider
    and month: a report would show dollars that are not in the books, or lose some."""

    check = "marts_tie_out"


@dataclass
class BuildInputs:
    """What a build reads: lake partition files and reference frames, plus SQL parameters."""

    lake_files: Sequence[Path]
    usage_schema: pl.Schema
    references: Mapping[str, pl.DataFrame]
    params: Mapping[str, object] = field(default_factory=dict)
    closed_spend_files: Sequence[Path] = ()


@dataclass
class BuildReport:
    """Rows per published table, and the totals that were checked against the lake."""

    tables: dict[str, int]
    lake_list_usd: Decimal
    lake_billed_usd: Decimal


def sql_text(name: str) -> str:
    """The text of one packaged SQL file (e.g. `core/fct_spend`)."""
    return files("warehouse").joinpath(f"sql/{name}.sql").read_text()


def run_sql(con: duckdb.DuckDBPyConnection, text: str, params: Mapping[str, object]) -> None:
    """Run each statement of a SQL file, binding only the `$params` that statement names."""
    for statement in con.extract_statements(text):
        query = statement.query
        names = set(_PARAM.findall(query))
        missing = names - set(params)
        if missing:
            raise KeyError(f"SQL parameter(s) not provided: {', '.join(sorted(missing))}")
        con.execute(query, {k: params[k] for k in names} if names else None)


def _register_sources(con: duckdb.DuckDBPyConnection, inputs: BuildInputs) -> None:
    """Expose the build's inputs as temporary `src_*` views: they live in the connection, never in the
    published file (which holds only the documented `core` and `mart` schemas)."""
    if inputs.lake_files:
        # hive_types_autocast (on by default) reads billing_date=YYYY-MM-DD back as DATE
        con.register("src_usage", con.read_parquet([str(p) for p in inputs.lake_files], hive_partitioning=True))
    else:
        con.register("src_usage", inputs.usage_schema.to_frame())
    for kind, frame in inputs.references.items():
        con.register(f"src_{kind}", frame)
    if inputs.closed_spend_files:
        con.register("src_closed_spend", con.read_parquet([str(p) for p in inputs.closed_spend_files]))


def build(inputs: BuildInputs, build_path: Path, progress: Callable[[int, int], None] | None = None) -> BuildReport:
    """Create a fresh warehouse file at `build_path` with every model, and check it ties out to the lake.

    `progress(models_done, models_total)` is called after each model.
    """
    build_path.parent.mkdir(parents=True, exist_ok=True)
    for stale in (build_path, build_path.with_name(build_path.name + ".wal")):
        stale.unlink(missing_ok=True)
    con = connect()
    try:
        con.execute("attach ? as wh (storage_version ?)", [str(build_path), STORAGE_VERSION])
        con.execute("use wh")
        for schema in SCHEMAS:
            con.execute(f"create schema {schema}")  # identifiers from the fixed SCHEMAS tuple
        _register_sources(con, inputs)
        register_model_families(con)
        install_money_macros(con)  # the lake's own money macros: one largest-remainder split for both
        run_sql(con, sql_text("_quantile"), {})
        for done, model in enumerate(MODELS, start=1):
            run_sql(con, sql_text(model), inputs.params)
            if model == "core/spend_computed" and not inputs.closed_spend_files:
                run_sql(con, sql_text("core/_no_closed_months"), {})
            if progress is not None:
                progress(done, len(MODELS))
        _identity_conflicts(con)
        report = _tie_out(con)
        _marts_tie_out(con)
        con.execute("checkpoint")
        con.execute("use memory")
        con.execute("detach wh")
    finally:
        con.close()
    return report


def _tie_out(con: duckdb.DuckDBPyConnection) -> BuildReport:
    result = con.sql(sql_text("checks/tie_out")).pl()
    values = result.row(0, named=True)
    pairs = [
        ("lake_list_usd", "usage_list_usd"),
        ("lake_billed_usd", "usage_billed_usd"),
        ("lake_billed_usd", "fct_billed_usd"),
        ("billed_allocated_usd", "metered_allocated_usd"),
        ("expected_spend_usd", "fct_spend_usd"),
        ("zero", "rows_not_tied"),
    ]
    for lake_col, wh_col in pairs:
        if values[lake_col] != values[wh_col]:
            raise TieOutError(f"warehouse does not tie out: {wh_col} {values[wh_col]} != {lake_col} {values[lake_col]}")
    tables = {
        f"{schema}.{table}": int(count)
        for schema, table, count in con.sql(
            "select schema_name, table_name, estimated_size from duckdb_tables() where database_name = 'wh'"
        ).fetchall()
    }
    return BuildReport(tables=tables, lake_list_usd=values["lake_list_usd"], lake_billed_usd=values["lake_billed_usd"])


def _identity_conflicts(con: duckdb.DuckDBPyConnection) -> None:
    routes = con.sql(sql_text("checks/route_conflicts")).pl()
    if routes.height:
        first = routes.row(0, named=True)
        raise IdentityConflictError(
            f"identity conflict: {first['provider']} {first['kind']} {first['value']!r} is an alias of "
            f"{first['alias_engineer']} and a shared route with member {first['member_engineer']} from "
            f"{first['overlap_from']} ({routes.height} conflict(s) in all); keep one of the two and rerun"
        )
    conflicts = con.sql(sql_text("checks/identity_conflicts")).pl()
    if conflicts.height:
        first = conflicts.row(0, named=True)
        raise IdentityConflictError(
            f"identity conflict: {first['kind']} {first['value']!r} names both {first['engineer_a']} "
            f"({first['origin_a']}) and {first['engineer_b']} ({first['origin_b']}) from {first['overlap_from']} "
            f"({conflicts.height} conflict(s) in all); fix the aliases (a hand alias overrides pulled ones) and rerun"
        )


def _marts_tie_out(con: duckdb.DuckDBPyConnection) -> None:
    gaps = con.sql(sql_text("checks/marts_tie_out")).pl()
    if gaps.height:
        first = gaps.row(0, named=True)
        hint = "" if first["grain"] == "provider" else "; is every engineer with spend on the roster that month?"
        raise MartsTieOutError(
            f"marts do not sum to core.fct_spend: {first['grain']} {first['key']} in {first['month']:%Y-%m}: marts "
            f"{first['marts_usd']} != core.fct_spend {first['expected_usd']} ({gaps.height} gap(s) in all){hint}"
        )


def publish(build_path: Path, target: Path) -> None:
    """Atomically replace the published warehouse with the fresh build (owner-only permissions)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(build_path, 0o600)
    os.replace(build_path, target)
