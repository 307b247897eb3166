"""Lake layer: canonical usage Parquet, one partition per billing day, with its own blocking check (fx_rates)."""

from collections.abc import Iterator
from datetime import date

import dagster as dg

from pipelines.config import Settings
from pipelines.defs.ingest import RAW_ASSETS, reference_files
from pipelines.defs.partitions import window
from pipelines.defs.previews import preview
from pipelines.defs.resources import TokencompResource
from pipelines.progress import report_progress
from pipelines.services.checks import missing_fx_rate
from pipelines.services.ingest import read_manifest
from pipelines.services.lake import ZoneChanged, build_window, window_rows, window_summary
from pipelines.services.late import day_runs, late_days
from transforms.fx import MissingFxRateError

LAKE_USAGE = dg.AssetKey(["lake", "usage"])
FX_RATES_CHECK = dg.AssetCheckSpec(
    MissingFxRateError.check,
    asset=LAKE_USAGE,
    blocking=True,
    description="Every non-USD amount of the run's days has an exchange rate at most fx.max_rate_age_days old.",
)


def lake_usage(
    context: dg.AssetExecutionContext, tokencomp: TokencompResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Rebuild the days of this run from raw/ and the manifest."""
    settings = tokencomp.settings()
    start, end = window(context)
    days = (end - start).days + 1
    report_progress(context.log, "lake/usage", 0, days, "days")
    try:
        report = build_window(
            settings,
            start,
            end,
            lambda done, total: report_progress(context.log, "lake/usage", done, total, "days"),
        )
        late = _build_late_days(context, settings, start, end)
    except ZoneChanged as exc:
        raise dg.Failure(description=str(exc)) from exc
    except MissingFxRateError as exc:
        # Blocking (DESIGN: money with no FX rate): the chunk of days holding that line is not rewritten, and
        # nothing downstream runs or publishes (exit 3). The check result says which line, for the UI.
        finding = missing_fx_rate(settings, exc)
        yield dg.AssetCheckResult(
            check_name=exc.check,
            passed=False,
            severity=dg.AssetCheckSeverity.ERROR,
            description=finding.description,
            metadata=finding.metadata,
        )
        raise dg.Failure(description=str(exc), metadata={"blocking_check": exc.check}) from exc
    note = (
        f"{start} … {end}: {report.rows:,} rows, {report.partitions_written:,} partitions written, "
        f"{report.rejected_lines:,} line{'' if report.rejected_lines == 1 else 's'} rejected"
    )
    report_progress(context.log, "lake/usage", days, days, "days", note)
    summary = window_summary(settings, start, end)  # read back from the partitions just written
    totals = {
        f"total_{column}": dg.MetadataValue.text(f"{summary[column].sum():f}")
        for column in ("list_cost_usd", "billed_cost_usd")
    }
    yield dg.MaterializeResult(
        check_results=[
            dg.AssetCheckResult(
                check_name=MissingFxRateError.check,
                passed=True,
                description=f"every non-USD amount of {start} … {end} has a rate",
            )
        ],
        metadata={
            "dagster/row_count": report.rows,
            "rows_by_source": report.rows_by_source,
            "partitions_written": report.partitions_written,
            "partitions_removed": report.partitions_removed,
            "rejected_lines": report.rejected_lines,
            "unpriced_rows": report.unpriced_rows,
            "late_days": [d.isoformat() for d in late],
            **totals,
            "preview": dg.MetadataValue.md(preview(summary)),  # the run's days per source
        },
    )


def _build_late_days(context: dg.AssetExecutionContext, settings: Settings, start: date, end: date) -> list[date]:
    """Build the days outside this run that a delivery landed for after their last build (services/late.py),
    each reported as a materialization of its own partition; return them."""
    partitions = context.assets_def.partitions_def
    last_key = partitions.get_last_partition_key() if partitions is not None else None
    if last_key is None:
        return []
    late = late_days(settings, read_manifest(settings), date.fromisoformat(last_key))
    for first, last in day_runs(late):
        report = build_window(settings, first, last)
        context.log.warning(
            f"lake/usage: also rebuilt {first} … {last} ({report.rows:,} rows): a delivery landed for "
            f"{'that day' if first == last else 'those days'} after {'its' if first == last else 'their'} last build"
        )
        for day, rows in window_rows(settings, first, last).items():
            context.log_event(
                dg.AssetMaterialization(
                    asset_key=LAKE_USAGE,
                    partition=day.isoformat(),
                    description=f"rebuilt by the run for {start} … {end}: a delivery landed after its last build",
                    metadata={"dagster/row_count": rows, "late_delivery": True},
                )
            )
    return late


def lake_asset(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    """The lake/usage asset over the billing days of `partitions`."""
    return dg.asset(
        key=LAKE_USAGE,
        group_name="lake",
        kinds={"polars", "parquet"},
        owners=["team:data-platform"],
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool="duckdb_warehouse",  # the lake's DuckDB writes take the one writer slot, like the warehouse's
        deps=[*(a.key for a in RAW_ASSETS), reference_files],  # reference: seat prices, fx rates
        check_specs=[FX_RATES_CHECK],
        description=(
            "Canonical usage and billing rows of every source, one row per natural key, tokens in non-overlapping "
            "columns and money in exact decimals (other currencies converted to USD at the billing day's rate), "
            "list-priced at the prices of their day, with each provider's billed dollars allocated onto its metered "
            "usage. Rewritten per billing day."
        ),
    )(lake_usage)
