"""Lake layer: canonical usage Parquet, one partition per billing day, with its own blocking check (fx_rates)."""

from collections.abc import Iterator

import dagster as dg

from pipelines.defs.ingest import RAW_ASSETS, reference_files
from pipelines.defs.partitions import window
from pipelines.defs.previews import preview
from pipelines.defs.resources import TokencompResource
from pipelines.progress import report_progress
from pipelines.services.checks import missing_fx_rate
from pipelines.services.lake import ZoneChanged, build_window, window_summary
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
            **totals,
            "preview": dg.MetadataValue.md(preview(summary)),  # the run's days per source
        },
    )


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
