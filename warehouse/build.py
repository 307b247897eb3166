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
from warehouse.models import SCHEMAS, model_graph

STORAGE_VERSION = "v1.4.0"
_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)")


@dataclass(frozen=True)
class CheckOutcome:
    """One blocking check evaluated on a build before it is published: passed or not, why, and its figures."""

    name: str
    passed: bool
    description: str
    metadata: Mapping[str, str | int] = field(default_factory=dict)


class BlockingCheckError(RuntimeError):
    """A blocking (ERROR) check failed: nothing is published. `check` names it; `outcomes` are every blocking
    check the build evaluated (the failed ones and the ones that passed)."""

    check = "blocking"

    def __init__(self, message: str, outcomes: Sequence[CheckOutcome] = ()) -> None:
        super().__init__(message)
        self.outcomes = tuple(outcomes)


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


# The blocking checks of a build, in the order a failure is reported (an identity conflict fans spend out, so
# it explains a tie-out gap that follows from it).
CHECK_ERRORS: dict[str, type[BlockingCheckError]] = {
    e.check: e for e in (IdentityConflictError, TieOutError, MartsTieOutError)
}
NOT_ADDITIVE = frozenset({"total_usd", "run_rate_spend_usd", "annualized_run_rate_usd", "total_comp_with_tokens_usd"})
PREVIEW_ROWS = 5
# Columns a preview leaves out: they name a person, and previews land in Dagster's event log.
PREVIEW_HIDDEN = frozenset({"name", "email"})


@dataclass
class BuildInputs:
    """What a build reads: lake partition files and reference frames, plus SQL parameters."""

    lake_files: Sequence[Path]
    usage_schema: pl.Schema
    references: Mapping[str, pl.DataFrame]
    params: Mapping[str, object] = field(default_factory=dict)
    closed_spend_files: Sequence[Path] = ()


@dataclass(frozen=True)
class Column:
    """One column of a warehouse table: name, DuckDB type and its documented meaning (COMMENT)."""

    name: str
    data_type: str
    comment: str


@dataclass(frozen=True)
class Table:
    """One published table (`core.fct_spend`): its documented meaning (COMMENT) and columns, in order."""

    name: str
    comment: str
    columns: tuple[Column, ...]

    @property
    def money_columns(self) -> tuple[str, ...]:
        """The USD amounts a total is reported for: `*_usd` decimals and FOCUS's `*Cost` columns, except those
        that do not add up over rows (an invoice total repeated on each line, run rates, pay)."""
        return tuple(
            c.name
            for c in self.columns
            if c.data_type.startswith("DECIMAL")
            and (c.name.endswith("_usd") or c.name.endswith("Cost"))
            and c.name not in NOT_ADDITIVE
        )


@dataclass(frozen=True)
class TableStats:
    """What one build put in a table (its columns): exact row count, the exact sum of each money column, the
    first rows."""

    table: Table
    rows: int
    totals: Mapping[str, Decimal]
    preview: pl.DataFrame


@dataclass
class BuildReport:
    """Rows per published table, the totals that were checked against the lake, each table's figures, and the
    blocking checks that passed."""

    tables: dict[str, int]
    lake_list_usd: Decimal
    lake_billed_usd: Decimal
    stats: dict[str, TableStats] = field(default_factory=dict)
    checks: tuple[CheckOutcome, ...] = ()


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


def _run_models(
    con: duckdb.DuckDBPyConnection, inputs: BuildInputs, progress: Callable[[int, int], None] | None
) -> None:
    """Create the schemas and every model in the attached database `wh`, in dependency order."""
    con.execute("use wh")
    for schema in SCHEMAS:
        con.execute(f"create schema {schema}")  # identifiers from the fixed SCHEMAS tuple
    _register_sources(con, inputs)
    register_model_families(con)
    install_money_macros(con)  # the lake's own money macros: one largest-remainder split for both
    run_sql(con, sql_text("_quantile"), {})
    models = model_graph()
    for done, model in enumerate(models, start=1):
        run_sql(con, sql_text(model.name), inputs.params)
        if model.name == "core/spend_computed" and not inputs.closed_spend_files:
            run_sql(con, sql_text("core/_no_closed_months"), {})
        if progress is not None:
            progress(done, len(models))


def build(inputs: BuildInputs, build_path: Path, progress: Callable[[int, int], None] | None = None) -> BuildReport:
    """Create a fresh warehouse file at `build_path` with every model, and check it ties out to the lake.

    `progress(models_done, models_total)` is called after each model. A failed blocking check raises its
    BlockingCheckError (carrying every check's outcome); the file at `build_path` is then not to be published.
    """
    build_path.parent.mkdir(parents=True, exist_ok=True)
    for stale in (build_path, build_path.with_name(build_path.name + ".wal")):
        stale.unlink(missing_ok=True)
    con = connect()
    try:
        con.execute("attach ? as wh (storage_version ?)", [str(build_path), STORAGE_VERSION])
        _run_models(con, inputs, progress)
        identity = _identity_conflicts(con)
        tie_out, values = _tie_out(con)
        outcomes = (identity, tie_out, _marts_tie_out(con))
        failed = [o for o in outcomes if not o.passed]
        if failed:
            raise CHECK_ERRORS[failed[0].name](failed[0].description, outcomes)
        stats = {table.name: _stats(con, table) for table in _tables(con)}
        con.execute("checkpoint")
        con.execute("use memory")
        con.execute("detach wh")
    finally:
        con.close()
    return BuildReport(
        tables={name: s.rows for name, s in stats.items()},
        lake_list_usd=values["lake_list_usd"],
        lake_billed_usd=values["lake_billed_usd"],
        stats=stats,
        checks=outcomes,
    )


def catalog(inputs: BuildInputs) -> tuple[Table, ...]:
    """Every table a build publishes, with its COMMENT and columns, from a build of `inputs` in memory (a
    schema-only build on no data is quick: the schema does not depend on data)."""
    con = connect()
    try:
        con.execute("attach ':memory:' as wh")
        _run_models(con, inputs, None)
        return _tables(con)
    finally:
        con.close()


def _tables(con: duckdb.DuckDBPyConnection) -> tuple[Table, ...]:
    """The tables of the attached build `wh`, in schema/table order."""
    columns: dict[str, list[Column]] = {}
    for table, column, dtype, comment in con.sql(sql_text("catalog/columns")).fetchall():
        columns.setdefault(table, []).append(Column(column, dtype, comment))
    return tuple(
        Table(table, comment, tuple(columns[table]))
        for table, comment in con.sql(sql_text("catalog/tables")).fetchall()
    )


def _stats(con: duckdb.DuckDBPyConnection, table: Table) -> TableStats:
    """Row count and money totals of one table in one scan, and its first rows (people's names left out)."""
    relation = con.table(f"wh.{table.name}")  # a name read from the catalog, never a value
    sums = [f'sum("{c}")::decimal(38, 12)' for c in table.money_columns]
    figures = relation.aggregate(", ".join(["count(*)", *sums])).fetchall()[0]
    shown = [c.name for c in table.columns if c.name not in PREVIEW_HIDDEN]
    preview = relation.select(*(f'"{c}"' for c in shown)).limit(PREVIEW_ROWS).pl()
    totals = {c: v if v is not None else Decimal(0) for c, v in zip(table.money_columns, figures[1:], strict=True)}
    return TableStats(table=table, rows=int(figures[0]), totals=totals, preview=preview)


def _tie_out(con: duckdb.DuckDBPyConnection) -> tuple[CheckOutcome, dict[str, Decimal]]:
    values = con.sql(sql_text("checks/tie_out")).pl().row(0, named=True)
    pairs = [
        ("lake_list_usd", "usage_list_usd"),
        ("lake_billed_usd", "usage_billed_usd"),
        ("lake_billed_usd", "fct_billed_usd"),
        ("billed_allocated_usd", "metered_allocated_usd"),
        ("expected_spend_usd", "fct_spend_usd"),
        ("zero", "rows_not_tied"),
    ]
    metadata = {
        col: f"{values[col]:f}" if isinstance(values[col], Decimal) else values[col] for p in pairs for col in p
    }
    for lake_col, wh_col in pairs:
        if values[lake_col] != values[wh_col]:
            why = f"warehouse does not tie out: {wh_col} {values[wh_col]} != {lake_col} {values[lake_col]}"
            return CheckOutcome("tie_out", False, why, metadata), values
    why = f"spend {values['fct_spend_usd']} equals the bill plus list-priced usage; every reconciliation row ties out"
    return CheckOutcome("tie_out", True, why, metadata), values


def _identity_conflicts(con: duckdb.DuckDBPyConnection) -> CheckOutcome:
    routes = con.sql(sql_text("checks/route_conflicts")).pl()
    conflicts = con.sql(sql_text("checks/identity_conflicts")).pl()
    metadata: dict[str, str | int] = {"route_conflicts": routes.height, "identity_conflicts": conflicts.height}
    if routes.height:
        first = routes.row(0, named=True)
        why = (
            f"identity conflict: {first['provider']} {first['kind']} {first['value']!r} is an alias of "
            f"{first['alias_engineer']} and a shared route with member {first['member_engineer']} from "
            f"{first['overlap_from']} ({routes.height} conflict(s) in all); keep one of the two and rerun"
        )
        return CheckOutcome("identity_conflicts", False, why, metadata)
    if conflicts.height:
        first = conflicts.row(0, named=True)
        why = (
            f"identity conflict: {first['kind']} {first['value']!r} names both {first['engineer_a']} "
            f"({first['origin_a']}) and {first['engineer_b']} ({first['origin_b']}) from {first['overlap_from']} "
            f"({conflicts.height} conflict(s) in all); fix the aliases (a hand alias overrides pulled ones) and rerun"
        )
        return CheckOutcome("identity_conflicts", False, why, metadata)
    why = "no identity names two engineers on one day, and no alias is also a shared route"
    return CheckOutcome("identity_conflicts", True, why, metadata)


def _marts_tie_out(con: duckdb.DuckDBPyConnection) -> CheckOutcome:
    gaps = con.sql(sql_text("checks/marts_tie_out")).pl()
    if gaps.height:
        first = gaps.row(0, named=True)
        hint = "" if first["grain"] == "provider" else "; is every engineer with spend on the roster that month?"
        why = (
            f"marts do not sum to core.fct_spend: {first['grain']} {first['key']} in {first['month']:%Y-%m}: marts "
            f"{first['marts_usd']} != core.fct_spend {first['expected_usd']} ({gaps.height} gap(s) in all){hint}"
        )
        return CheckOutcome("marts_tie_out", False, why, {"gaps": gaps.height})
    why = "the marts sum to core.fct_spend per provider and month, and per engineer and month"
    return CheckOutcome("marts_tie_out", True, why, {"gaps": 0})


def publish(build_path: Path, target: Path) -> None:
    """Atomically replace the published warehouse with the fresh build (owner-only permissions)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(build_path, 0o600)
    os.replace(build_path, target)
