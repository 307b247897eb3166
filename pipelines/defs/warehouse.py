"""Warehouse layer: one asset per published table of data/warehouse.duckdb (core.* and mart.*), all built in one
step aside, checked, and published atomically."""

from collections.abc import Iterable, Iterator
from functools import cache

import dagster as dg
import duckdb

from pipelines.defs.ingest import reference_files
from pipelines.defs.lake import LAKE_USAGE
from pipelines.defs.previews import preview
from pipelines.defs.resources import TokencompResource
from pipelines.progress import report_progress
from pipelines.services.warehouse import build_and_publish, build_inputs
from warehouse.build import BlockingCheckError, CheckOutcome, Table, TableStats, catalog
from warehouse.models import model_graph, published_models, upstream_tables

STEP = "warehouse"
OWNERS = ["team:data-platform"]
GROUPS = {"core": "warehouse", "mart": "marts"}
# What the src_* views a model reads come from: the lake, else the reference data (src_closed_spend, the closed
# months' frozen books, is written by `tokencomp close`, not by an asset).
NOT_AN_ASSET = {"src_closed_spend"}

# The blocking checks evaluated on the scratch build before it is published, each on the table it vouches for.
CHECKS: dict[str, tuple[str, str]] = {
    "identity_conflicts": (
        "core.dim_alias",
        "No identity names two engineers on one day, and no principal is both an engineer's alias and a shared "
        "route: spend would fan out or be charged twice.",
    ),
    "tie_out": (
        "core.fct_spend",
        "The warehouse reproduces the lake's dollars and, per provider, scope and day, allocated plus unallocated "
        "spend equals what was billed.",
    ),
    "marts_tie_out": (
        "mart.engineer_monthly",
        "The marts (engineers' monthly spend plus mart.unattributed) sum to core.fct_spend per provider and month.",
    ),
}


def table_key(table: str) -> dg.AssetKey:
    """The asset key of a published table: `core.fct_spend` is core/fct_spend."""
    return dg.AssetKey(table.split("."))


@cache
def warehouse_tables() -> tuple[Table, ...]:
    """Every published table with its COMMENT and columns, from a schema-only build in memory (once a process:
    the schema does not depend on data or settings)."""
    return catalog(build_inputs(None))


def column_schema(table: Table) -> dg.TableSchema:
    """The table's columns, types and documented meanings, as the Dagster UI shows them."""
    return dg.TableSchema(
        columns=[dg.TableColumn(c.name, c.data_type, description=c.comment or None) for c in table.columns]
    )


def _source_keys(sources: Iterable[str]) -> list[dg.AssetKey]:
    keys = {LAKE_USAGE if s == "src_usage" else reference_files.key for s in sources if s not in NOT_AN_ASSET}
    return sorted(keys, key=lambda k: k.to_user_string())


def warehouse_specs() -> list[dg.AssetSpec]:
    """One spec per published table: its meaning, columns and lineage (the tables and inputs its SQL reads)."""
    graph = model_graph()
    models = published_models()
    specs = []
    for table in warehouse_tables():
        model = models[table.name]
        tables, sources = upstream_tables(model, graph)
        specs.append(
            dg.AssetSpec(
                key=table_key(table.name),
                group_name=GROUPS[table.name.split(".", 1)[0]],
                description=table.comment,
                kinds={"duckdb", "sql"},
                owners=OWNERS,
                deps=[*(table_key(t) for t in tables), *_source_keys(sources)],
                metadata={
                    "dagster/column_schema": column_schema(table),
                    "dagster/table_name": table.name,
                    "model": f"warehouse/sql/{model.name}.sql",
                },
            )
        )
    return specs


CHECK_SPECS = [
    dg.AssetCheckSpec(name, asset=table_key(table), description=description, blocking=True)
    for name, (table, description) in CHECKS.items()
]


def check_result(outcome: CheckOutcome) -> dg.AssetCheckResult:
    """A build's check outcome as Dagster records it (a failure is ERROR: nothing is published)."""
    return dg.AssetCheckResult(
        asset_key=table_key(CHECKS[outcome.name][0]),
        check_name=outcome.name,
        passed=outcome.passed,
        severity=dg.AssetCheckSeverity.ERROR,
        description=outcome.description,
        metadata=dict(outcome.metadata),
    )


def table_metadata(stats: TableStats) -> dict[str, object]:
    """What one build put in a table: rows, each money column's exact total (text), a preview, its columns."""
    return {
        "dagster/row_count": stats.rows,
        **{f"total_{column}": dg.MetadataValue.text(f"{value:f}") for column, value in stats.totals.items()},
        "preview": dg.MetadataValue.md(preview(stats.preview)),
        "dagster/column_schema": column_schema(stats.table),
    }


def warehouse_asset() -> dg.AssetsDefinition:
    """The multi-asset that builds and publishes every warehouse table in one step."""

    @dg.multi_asset(
        name=STEP,
        specs=warehouse_specs(),
        check_specs=CHECK_SPECS,
        pool="duckdb_warehouse",
        can_subset=False,
        description=(
            "Builds every core.* and mart.* table of data/warehouse.duckdb aside, evaluates the blocking checks "
            "on that build, and publishes it with os.replace only if they pass: analysts and finance only ever "
            "see a complete build; closed months keep their frozen books."
        ),
    )
    def warehouse(
        context: dg.AssetExecutionContext, tokencomp: TokencompResource
    ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        """Build every SQL model in dependency order, check identities and tie-outs on the build, publish."""
        settings = tokencomp.settings()
        try:
            report = build_and_publish(
                settings, lambda done, total: report_progress(context.log, STEP, done, total, "models")
            )
        except BlockingCheckError as exc:
            # A blocking (ERROR) check: its result says why, nothing is published, the run exits 3.
            yield from (check_result(o) for o in exc.outcomes)
            raise dg.Failure(description=str(exc), metadata={"blocking_check": exc.check}) from exc
        models = len(model_graph())
        done = f"published {settings.warehouse_path} ({report.plan.reason})"  # full, or which lake days changed
        report_progress(context.log, STEP, models, models, "models", done)
        for table in published_models():  # build order: Dagster wants a multi-asset's outputs in dependency order
            yield dg.MaterializeResult(asset_key=table_key(table), metadata=table_metadata(report.stats[table]))
        yield from (check_result(o) for o in report.checks)

    return warehouse


@dg.asset_check(
    asset=table_key("mart.engineer_monthly"),
    additional_deps=[table_key("core.dim_engineer")],
    blocking=True,
    description="The published file opens read-only and every mart engineer row has a roster engineer.",
)
def warehouse_readable(tokencomp: TokencompResource) -> dg.AssetCheckResult:
    """Blocking: analysts must be able to open what was published, and the mart must not invent engineers."""
    settings = tokencomp.settings()
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        orphans = int(
            con.sql("select count(*) from mart.engineer_monthly m anti join core.dim_engineer e using (engineer_id)")
            .pl()
            .item()
        )
    return dg.AssetCheckResult(passed=orphans == 0, metadata={"orphan_engineers": orphans})
