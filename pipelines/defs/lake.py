"""Lake layer: canonical usage Parquet, one partition per billing day, plus its blocking checks."""

import dagster as dg
import polars as pl

from pipelines.defs.ingest import RAW_ASSETS, reference_files
from pipelines.defs.partitions import window
from pipelines.defs.resources import TokencompResource
from pipelines.progress import report_progress
from pipelines.services.lake import ZoneChanged, build_window, read_lake
from transforms.fx import MissingFxRateError

LAKE_USAGE = dg.AssetKey(["lake", "usage"])


def lake_usage(context: dg.AssetExecutionContext, tokencomp: TokencompResource) -> dg.MaterializeResult:
    """Rebuild the days of this run from raw/ and the manifest."""
    start, end = window(context)
    days = (end - start).days + 1
    report_progress(context.log, "lake/usage", 0, days, "days")
    try:
        report = build_window(
            tokencomp.settings(),
            start,
            end,
            lambda done, total: report_progress(context.log, "lake/usage", done, total, "days"),
        )
    except ZoneChanged as exc:
        raise dg.Failure(description=str(exc)) from exc
    except MissingFxRateError as exc:
        # Blocking (DESIGN: money with no FX rate): the chunk of days holding that line is not rewritten, and
        # nothing downstream runs or publishes (exit 3).
        raise dg.Failure(description=str(exc), metadata={"blocking_check": exc.check}) from exc
    note = (
        f"{start} … {end}: {report.rows:,} rows, {report.partitions_written:,} partitions written, "
        f"{report.rejected_lines:,} line{'' if report.rejected_lines == 1 else 's'} rejected"
    )
    report_progress(context.log, "lake/usage", days, days, "days", note)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": report.rows,
            "rows_by_source": report.rows_by_source,
            "partitions_written": report.partitions_written,
            "partitions_removed": report.partitions_removed,
            "rejected_lines": report.rejected_lines,
            "unpriced_rows": report.unpriced_rows,
        }
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
        deps=[*(a.key for a in RAW_ASSETS), reference_files],  # reference: seat prices, fx rates
        description=(
            "Canonical usage and billing rows of every source, one row per natural key, tokens in non-overlapping "
            "columns and money in exact decimals (other currencies converted to USD at the billing day's rate), "
            "list-priced at the prices of their day, with each provider's billed dollars allocated onto its metered "
            "usage. Rewritten per billing day."
        ),
    )(lake_usage)


@dg.asset_check(asset=LAKE_USAGE, blocking=True, description="No negative token counts reach the lake.")
def lake_usage_tokens_non_negative(tokencomp: TokencompResource) -> dg.AssetCheckResult:
    """Blocking: a negative token count means a parser or a source is wrong; nothing downstream may use it."""
    settings = tokencomp.settings()
    token_cols = [
        "uncached_input_tokens",
        "cache_read_tokens",
        "cache_write_5m_tokens",
        "cache_write_1h_tokens",
        "output_tokens",
    ]
    bad = (
        read_lake(settings)
        .filter(pl.any_horizontal(pl.col(c) < 0 for c in token_cols))
        .select(pl.len())
        .collect()
        .item()
    )
    return dg.AssetCheckResult(passed=bad == 0, metadata={"negative_rows": bad})
