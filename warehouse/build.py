"""Build the DuckDB warehouse from the lake and reference data, then publish it atomically.

The file is built in a scratch folder and moved over the published one with `os.replace`, so readers
see the previous complete build or the new one, never a mix. It is written in DuckDB storage v1.4.0 so
every DuckDB >= 1.4 client (including the 1.5 CLI) can open it read-only.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from importlib.resources import files
from pathlib import Path

import duckdb
import polars as pl

from transforms.common import connect
from transforms.money import install_money_macros
from warehouse.families import register_model_families
from warehouse.incremental import FULL, ZONE_DAYS, Grain, Plan, covers, grain, partition_day
from warehouse.models import SCHEMAS, Model, model_graph

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
    plan: Plan = FULL
    # the lake days each model (and the tie-out check) read, as the build went
    reads: dict[str, tuple[date, ...]] = field(default_factory=dict)
    # the models an incremental build recomputed whole, the ones it recomputed for the changed days/months, and
    # the ones it kept as the previous build made them (they read nothing from the lake)
    rebuilt: tuple[str, ...] = ()
    recomputed: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()
    # the months each recomputed month-grain model recomputed
    months: Mapping[str, tuple[date, ...]] = field(default_factory=dict)


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


def _register_usage(con: duckdb.DuckDBPyConnection, inputs: BuildInputs, lake_files: Sequence[Path]) -> None:
    """Expose `lake_files` (all of the lake, or the days an incremental build recomputes) as `src_usage`."""
    con.execute("select 1").fetchall()  # register() refuses while the last statement's result is open
    if lake_files:
        # hive_types_autocast (on by default) reads billing_date=YYYY-MM-DD back as DATE
        con.register("src_usage", con.read_parquet([str(p) for p in lake_files], hive_partitioning=True))
    else:
        con.register("src_usage", inputs.usage_schema.to_frame())


def _register_sources(con: duckdb.DuckDBPyConnection, inputs: BuildInputs) -> None:
    """Expose the build's inputs as temporary `src_*` views: they live in the connection, never in the
    published file (which holds only the documented `core` and `mart` schemas)."""
    _register_usage(con, inputs, inputs.lake_files)
    for kind, frame in inputs.references.items():
        con.register(f"src_{kind}", frame)
    if inputs.closed_spend_files:
        con.register("src_closed_spend", con.read_parquet([str(p) for p in inputs.closed_spend_files]))


def _prepare(con: duckdb.DuckDBPyConnection, inputs: BuildInputs) -> None:
    _register_sources(con, inputs)
    register_model_families(con)
    install_money_macros(con)  # the lake's own money macros: one largest-remainder split for both
    run_sql(con, sql_text("_quantile"), {})


def _after(con: duckdb.DuckDBPyConnection, inputs: BuildInputs, model: Model) -> None:
    if model.name == "core/spend_computed" and not inputs.closed_spend_files:
        run_sql(con, sql_text("core/_no_closed_months"), {})


def _days(lake_files: Sequence[Path]) -> tuple[date, ...]:
    return tuple(partition_day(p) for p in lake_files)


def _run_models(
    con: duckdb.DuckDBPyConnection,
    inputs: BuildInputs,
    progress: Callable[[int, int], None] | None,
    reads: dict[str, tuple[date, ...]] | None = None,
) -> None:
    """Create the schemas and every model in the attached database `wh`, in dependency order."""
    con.execute("use wh")
    for schema in SCHEMAS:
        con.execute(f"create schema {schema}")  # identifiers from the fixed SCHEMAS tuple
    _prepare(con, inputs)
    models = model_graph()
    for done, model in enumerate(models, start=1):
        run_sql(con, sql_text(model.name), inputs.params)
        if reads is not None and "src_usage" in model.sources:
            reads[model.name] = _days(inputs.lake_files)
        _after(con, inputs, model)
        if progress is not None:
            progress(done, len(models))


class _NeedsFullBuild(Exception):
    """An incremental build found it cannot recompute a model from what it has: the build starts over, full."""


@dataclass
class _Delta:
    """An incremental build under way: the changed days' lake files and what was recomputed how."""

    inputs: BuildInputs
    plan: Plan
    changed_files: list[Path]
    grains: dict[str, Grain | None]
    lake_derived: set[str]
    reads: dict[str, tuple[date, ...]] = field(default_factory=dict)
    widened: set[str] = field(default_factory=set)  # grain models recomputed over all their rows this time
    snapshots: dict[str, str] = field(default_factory=dict)  # whole table -> its previous rows, in `delta`
    recomputed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    months: dict[str, tuple[date, ...]] = field(default_factory=dict)  # month-grain model -> months recomputed
    # (table, column) of an `edges` clause -> its first and last value in the previous build
    edges: dict[tuple[str, str], tuple[date | None, date | None]] = field(default_factory=dict)


def _window(upstream: Grain, reader: Grain) -> str:
    """The rows of a grain table a model of grain `reader` needs to recompute its changed days, or its months
    (the days and months they read: incremental/model_reads.sql)."""
    if reader.kind == "day":
        keys = "select day from delta.main.changed_days"
    elif upstream.kind == "month":
        keys = "select month from delta.main.model_read_months"
    else:
        keys = "select day from delta.main.model_days"
    return f"({upstream.column}) in ({keys})"


def _edges(con: duckdb.DuckDBPyConnection, table: str, column: str) -> tuple[date | None, date | None]:
    """The first and last value of `column` in the attached build's `table` (names from a grain header)."""
    ((first, last),) = con.execute(f"select min({column}), max({column}) from wh.{table}").fetchall()
    return first, last


def _moved(con: duckdb.DuckDBPyConnection, d: _Delta, g: Grain) -> list[tuple[date, date]] | None:
    """The days between the old and the new place of each edge of `g` that moved (None: the data window
    appeared or vanished, so every month may change)."""
    if g.edges is None:
        return []
    before, after = d.edges[g.edges], _edges(con, *g.edges)
    moved = []
    for old, new in zip(before, after, strict=True):
        if old != new:
            if old is None or new is None:
                return None
            moved.append((min(old, new), max(old, new)))
    return moved


def _whole_reason(con: duckdb.DuckDBPyConnection, d: _Delta, model: Model, g: Grain) -> str | None:
    """Why a grain model must be recomputed over all its rows this time (None: its changed rows suffice)."""
    by_name = {m.name: m for m in model_graph()}
    for dep in model.depends_on:
        ug = d.grains[dep]
        if dep in d.widened or (ug is not None and g.kind == "day" and ug.kind == "month"):
            return f"{dep} was recomputed whole"
        snapshot = d.snapshots.get(dep)
        if ug is None and snapshot is not None:
            table = by_name[dep].creates
            cols = ", ".join(g.unchanged.get(table, ("*",)))
            ((moved,),) = con.execute(
                f"select count(*) from (select {cols} from {snapshot} except select {cols} from wh.{table})"
            ).fetchall()
            if moved:
                return f"{table} changed for rows it had"
    return None


def _mark_months(con: duckdb.DuckDBPyConnection, d: _Delta, model: Model, g: Grain) -> str | None:
    """Fill `delta.main.model_months` with the months a month-grain model recomputes (None), or say why it
    must be recomputed whole."""
    if g.edges is not None and g.edges[0] not in {m.creates for m in model_graph() if m.name in model.depends_on}:
        # its edges are read after the build has updated the table: only a table the model reads is
        raise ValueError(f"warehouse/sql/{model.name}.sql: edges names {g.edges[0]}, a table it does not read")
    moved = _moved(con, d, g)
    if moved is None:
        return f"the data window of {g.edges[0] if g.edges else ''} appeared or vanished"
    upstream = [d.months[dep] for dep in model.depends_on if dep in d.months]
    d.months[model.name] = g.months(d.plan.days, upstream, moved)
    run_sql(con, sql_text("incremental/model_months"), {"months": list(d.months[model.name])})
    run_sql(con, sql_text("incremental/model_reads"), {"reach": g.reach, "zone_days": ZONE_DAYS})
    return None


def _run_whole(con: duckdb.DuckDBPyConnection, d: _Delta, model: Model, graph: Sequence[Model]) -> None:
    if "src_usage" in model.sources:  # registering the whole lake's files is not free: only for its readers
        _register_usage(con, d.inputs, d.inputs.lake_files)
        d.reads[model.name] = _days(d.inputs.lake_files)
    con.execute("use wh")
    if model.published:
        readers = [m for m in graph if model.name in m.depends_on and d.grains[m.name] is not None]
        if model.name in d.lake_derived and readers:
            snapshot = f"delta.main.before_{len(d.snapshots)}"
            con.execute(f"create table {snapshot} as select * from wh.{model.creates}")
            d.snapshots[model.name] = snapshot
        con.execute(f"drop table {model.creates}")
    run_sql(con, sql_text(model.name), d.inputs.params)


def _run_grain(con: duckdb.DuckDBPyConnection, d: _Delta, model: Model, g: Grain, graph: Sequence[Model]) -> None:
    by_name = {m.name: m for m in graph}
    if "src_usage" in model.sources:
        _register_usage(con, d.inputs, d.changed_files)
        d.reads[model.name] = _days(d.changed_files)
    for dep in model.depends_on:
        upstream = by_name[dep]
        if not upstream.published:
            continue  # a temporary table this build already made for the changed rows (or all, if widened)
        ug = d.grains[dep]
        whole = ug is None or dep in d.widened or (g.edges is not None and g.edges[0] == upstream.creates)
        where = "true" if whole else _window(ug, g)
        con.execute(
            f"create or replace view delta.{upstream.creates} as select * from wh.{upstream.creates} where {where}"
        )
    con.execute("use delta")
    run_sql(con, sql_text(model.name), d.inputs.params)
    if model.published:
        rows = covers(g)
        fresh = f"select * from delta.{model.creates} where {rows}"
        con.execute(f"delete from wh.{model.creates} where {rows}").fetchall()
        con.execute(f"insert into wh.{model.creates} by name {fresh}").fetchall()
        con.execute(f"drop table delta.{model.creates}")
    d.recomputed.append(model.name)


def _run_incremental(
    con: duckdb.DuckDBPyConnection, inputs: BuildInputs, plan: Plan, progress: Callable[[int, int], None] | None
) -> _Delta:
    """Update the copy of the previous build attached as `wh`: the changed lake days' rows of every day-grain
    table, the changed months' rows of every month-grain table, every other table rebuilt whole."""
    con.execute("use wh")
    _prepare(con, inputs)
    con.execute("attach ':memory:' as delta")
    for schema in SCHEMAS:
        con.execute(f"create schema delta.{schema}")
    run_sql(con, sql_text("incremental/changed"), {"days": list(plan.days)})
    graph = model_graph()
    by_name = {m.name: m for m in graph}
    grains = {m.name: grain(sql_text(m.name)) for m in graph}
    lake_derived: set[str] = set()
    for m in graph:
        if "src_usage" in m.sources or lake_derived & set(m.depends_on):
            lake_derived.add(m.name)
    wanted = set(plan.days)
    d = _Delta(inputs, plan, [p for p in inputs.lake_files if partition_day(p) in wanted], grains, lake_derived)
    for g in grains.values():
        if g is not None and g.edges is not None:
            d.edges[g.edges] = _edges(con, *g.edges)  # before the build changes the table
    for done, model in enumerate(graph, start=1):
        if model.published and model.name not in lake_derived:
            # it reads only reference data, parameters and code, unchanged since the previous build (plan())
            d.kept.append(model.name)
            if progress is not None:
                progress(done, len(graph))
            continue
        g = grains[model.name]
        why = None if g is None else _whole_reason(con, d, model, g)
        if why is None and g is not None and g.kind == "month":
            why = _mark_months(con, d, model, g)
        if why is not None:
            restricted = [dep for dep in model.depends_on if dep in d.recomputed and not by_name[dep].published]
            if restricted:  # a temporary table holds the changed rows only: nothing to recompute the rest from
                raise _NeedsFullBuild(f"full build: {model.name} must be recomputed whole ({why})")
            d.widened.add(model.name)
            g = None
        if g is None:
            _run_whole(con, d, model, graph)
        else:
            _run_grain(con, d, model, g, graph)
        con.execute("use wh")
        _after(con, inputs, model)
        if progress is not None:
            progress(done, len(graph))
    con.execute("detach delta")
    return d


def build(
    inputs: BuildInputs, build_path: Path, progress: Callable[[int, int], None] | None = None, plan: Plan = FULL
) -> BuildReport:
    """Create a fresh warehouse file at `build_path` with every model, and check it ties out to the lake.

    An incremental `plan` starts from a copy of its previous published file and recomputes only the changed
    lake days' and months' rows (warehouse/incremental.py); the result is the same, table by table, as a full
    build's. `progress(models_done, models_total)` is called after each model. A failed blocking check raises
    its BlockingCheckError (carrying every check's outcome); the file at `build_path` is then not to be
    published (the previous published file is never touched).
    """
    try:
        return _build(inputs, build_path, progress, plan)
    except _NeedsFullBuild as exc:
        return _build(inputs, build_path, progress, Plan(str(exc)))


def _build(
    inputs: BuildInputs, build_path: Path, progress: Callable[[int, int], None] | None, plan: Plan
) -> BuildReport:
    build_path.parent.mkdir(parents=True, exist_ok=True)
    for stale in (build_path, build_path.with_name(build_path.name + ".wal")):
        stale.unlink(missing_ok=True)
    if plan.previous is not None:
        shutil.copyfile(plan.previous, build_path)
    con = connect()
    reads: dict[str, tuple[date, ...]] = {}
    rebuilt: tuple[str, ...] = ()
    recomputed: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()
    months: dict[str, tuple[date, ...]] = {}
    try:
        con.execute("attach ? as wh (storage_version ?)", [str(build_path), STORAGE_VERSION])
        if plan.previous is not None:
            delta = _run_incremental(con, inputs, plan, progress)
            reads, recomputed, kept = delta.reads, tuple(delta.recomputed), tuple(delta.kept)
            months = {name: delta.months[name] for name in recomputed if name in delta.months}
            rebuilt = tuple(m.name for m in model_graph() if m.name not in recomputed + kept)
            _register_usage(con, inputs, inputs.lake_files)  # the checks tie the result out to the whole lake
        else:
            _run_models(con, inputs, progress, reads)
        reads["checks/tie_out"] = _days(inputs.lake_files)
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
        plan=plan,
        reads=reads,
        rebuilt=rebuilt,
        recomputed=recomputed,
        kept=kept,
        months=months,
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
