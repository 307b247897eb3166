"""Warehouse layer: core.* and mart.* in data/warehouse.duckdb, built aside and published atomically."""

import dagster as dg
import duckdb

from pipelines.defs.ingest import reference_files
from pipelines.defs.lake import LAKE_USAGE
from pipelines.defs.resources import TokencompResource
from pipelines.progress import report_progress
from pipelines.services.warehouse import build_and_publish
from warehouse.build import MODELS, BlockingCheckError


@dg.asset(
    key=["warehouse", "duckdb"],
    group_name="warehouse",
    kinds={"duckdb", "sql"},
    owners=["team:data-platform"],
    pool="duckdb_warehouse",
    deps=[LAKE_USAGE, reference_files],
    description=(
        "The finance warehouse (data/warehouse.duckdb): engineers, bands, usage, spend attributed to engineers, "
        "the per-engineer monthly mart, invoice reconciliation and what is unattributed or unpriced. Analysts and "
        "finance only ever see a complete build: it is published with os.replace after the blocking checks "
        "(identity conflicts, tie-out to the bill, marts summing to core.fct_spend) pass; closed months keep "
        "their frozen books."
    ),
)
def warehouse_duckdb(context: dg.AssetExecutionContext, tokencomp: TokencompResource) -> dg.MaterializeResult:
    """Build every SQL model, check the tie-out to the lake, publish."""
    settings = tokencomp.settings()
    try:
        report = build_and_publish(
            settings, lambda done, total: report_progress(context.log, "warehouse/duckdb", done, total, "models")
        )
    except BlockingCheckError as exc:
        # A blocking (ERROR) check: nothing is published and the run reports it as such (exit code 3).
        raise dg.Failure(description=str(exc), metadata={"blocking_check": exc.check}) from exc
    context.log.info(f"published {settings.warehouse_path} ({len(report.tables)} tables)")
    models = len(MODELS)
    report_progress(context.log, "warehouse/duckdb", models, models, "models", f"published {settings.warehouse_path}")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(settings.warehouse_path)),
            "tables": {k: int(v) for k, v in report.tables.items()},
            "lake_list_usd": str(report.lake_list_usd),
            "lake_billed_usd": str(report.lake_billed_usd),
        }
    )


@dg.asset_check(
    asset=warehouse_duckdb,
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
