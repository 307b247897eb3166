"""Asset checks with the severities of DESIGN: a failed blocking (ERROR) check stops everything downstream of its
asset and the run exits 3; a failed WARN check stops nothing, `tokencomp run` prints it and `tokencomp status`
keeps it (pipelines/runner.py). `[checks] blocking` turns a WARN check into a blocking one.

Blocking: `negative_tokens` on each pulled source's raw/ pages (before any parser reads them) and on the stored
reference data; `fx_rates` is the lake asset's own check (pipelines/defs/lake.py). The warehouse's own blocking
checks (tie-out, marts tie-out, identity conflicts) run inside its build, before it publishes.
WARN: `freshness` per source, `unpriced_models` and `row_count_anomaly` on the lake, `unattributed_share` and
`invoice_gap` on the published marts.
"""

from collections.abc import Callable
from datetime import UTC, datetime

import dagster as dg
import duckdb
import polars as pl

from pipelines.clients import pullable
from pipelines.config import Settings
from pipelines.defs.automation import run_window
from pipelines.defs.lake import LAKE_USAGE
from pipelines.defs.resources import TokencompResource
from pipelines.services import checks
from pipelines.services.checks import Finding, Window
from transforms.sources import source_ids

# The marts these checks read.
UNATTRIBUTED = dg.AssetKey(["mart", "unattributed"])
RECONCILIATION = dg.AssetKey(["mart", "reconciliation"])
REFERENCE = dg.AssetKey(["reference", "files"])


def raw_key(source: str) -> dg.AssetKey:
    """The asset of one source's accepted deliveries in raw/."""
    return dg.AssetKey(["raw", source])


def run_days(context: dg.AssetCheckExecutionContext) -> Window:
    """The billing days of the run a check runs in (its partition range tags), or None for a run without them."""
    try:
        return run_window(context.run)
    except KeyError:
        return None


def result(finding: Finding, *, blocking: bool) -> dg.AssetCheckResult:
    """A finding as the check's result: a blocking check fails with severity ERROR, any other with WARN."""
    return dg.AssetCheckResult(
        passed=finding.passed,
        severity=dg.AssetCheckSeverity.ERROR if blocking else dg.AssetCheckSeverity.WARN,
        description=finding.description,
        metadata=finding.metadata,
    )


def warned(find: Callable[[], Finding]) -> Finding:
    """A WARN check that cannot read what it checks (an unreadable warehouse, a torn file) warns that it could
    not; it never fails the run the way a blocking check does."""
    try:
        return find()
    except (duckdb.Error, OSError, pl.exceptions.PolarsError) as exc:
        return Finding(False, f"could not be evaluated: {str(exc).strip().splitlines()[0]}")


def negative_tokens_on_pages(source: str) -> dg.AssetChecksDefinition:
    """Blocking: no negative token count in the pages of `source` for the run's days."""

    @dg.asset_check(
        asset=raw_key(source),
        name="negative_tokens",
        blocking=True,
        description=(
            f"No negative token count in the {source} pages for the run's days, read from the pages as delivered: "
            "the parser would reject those records and the days would publish without them."
        ),
    )
    def _negative_tokens(context: dg.AssetCheckExecutionContext, tokencomp: TokencompResource) -> dg.AssetCheckResult:
        return result(checks.negative_tokens_in_pages(tokencomp.settings(), source, run_days(context)), blocking=True)

    return _negative_tokens


@dg.asset_check(
    asset=REFERENCE,
    name="negative_tokens",
    blocking=True,
    description="No negative seat price, salary or band figure, and no fx rate at or below zero, in reference/.",
)
def negative_reference(tokencomp: TokencompResource) -> dg.AssetCheckResult:
    """Blocking: the lake prices seats and converts money with reference/; a negative figure there is wrong."""
    return result(checks.negative_reference_values(tokencomp.settings()), blocking=True)


def freshness_check(source: str, settings: Settings) -> dg.AssetChecksDefinition:
    """WARN: the data of `source` reaches close enough to today (`[checks] freshness_days`)."""
    blocking = "freshness" in settings.checks.blocking

    @dg.asset_check(
        asset=raw_key(source),
        name="freshness",
        blocking=blocking,
        description=(
            f"{source}'s data ends at most {settings.checks.stale_after(source)} days before today, if it is enabled."
        ),
    )
    def _freshness(tokencomp: TokencompResource) -> dg.AssetCheckResult:
        today = (tokencomp.landed_at_time() or datetime.now(UTC)).astimezone(UTC).date()
        return result(warned(lambda: checks.freshness(tokencomp.settings(), source, today)), blocking=blocking)

    return _freshness


def lake_checks(settings: Settings) -> list[dg.AssetChecksDefinition]:
    """WARN on the lake: models with no price, and rows per source and day against their trailing median."""
    unpriced = "unpriced_models" in settings.checks.blocking
    rows = "row_count_anomaly" in settings.checks.blocking

    @dg.asset_check(
        asset=LAKE_USAGE,
        name="unpriced_models",
        blocking=unpriced,
        description="Every model used on the run's days has a list price (an unknown one is flagged, never $0).",
    )
    def _unpriced(context: dg.AssetCheckExecutionContext, tokencomp: TokencompResource) -> dg.AssetCheckResult:
        return result(
            warned(lambda: checks.unpriced_models(tokencomp.settings(), run_days(context))), blocking=unpriced
        )

    @dg.asset_check(
        asset=LAKE_USAGE,
        name="row_count_anomaly",
        blocking=rows,
        description=(
            f"Each source's rows on the run's days are within {settings.checks.row_count_tolerance:.0%} of their "
            f"median on the same weekday of the {settings.checks.row_count_weeks} weeks before (medians of at least "
            f"{settings.checks.row_count_min_rows} rows)."
        ),
    )
    def _rows(context: dg.AssetCheckExecutionContext, tokencomp: TokencompResource) -> dg.AssetCheckResult:
        return result(warned(lambda: checks.row_count_anomaly(tokencomp.settings(), run_days(context))), blocking=rows)

    return [_unpriced, _rows]


def mart_checks(settings: Settings) -> list[dg.AssetChecksDefinition]:
    """WARN on the published marts: the unattributed share per month, and invoices against billed spend."""
    share = "unattributed_share" in settings.checks.blocking
    gap = "invoice_gap" in settings.checks.blocking

    @dg.asset_check(
        asset=UNATTRIBUTED,
        name="unattributed_share",
        blocking=share,
        description=(
            f"In each month of the run, at most {settings.checks.unattributed_share:.0%} of spend reaches no "
            "engineer (mart.unattributed over core.fct_spend)."
        ),
    )
    def _share(context: dg.AssetCheckExecutionContext, tokencomp: TokencompResource) -> dg.AssetCheckResult:
        return result(
            warned(lambda: checks.unattributed_share(tokencomp.settings(), run_days(context))), blocking=share
        )

    @dg.asset_check(
        asset=RECONCILIATION,
        name="invoice_gap",
        blocking=gap,
        description=(
            f"Each loaded invoice is within {settings.invoice_tolerance_usd} USD of billed spend for its provider "
            "and month, after its tax and credit lines ([invoices] tolerance_usd)."
        ),
    )
    def _gap(tokencomp: TokencompResource) -> dg.AssetCheckResult:
        return result(warned(lambda: checks.invoice_gap(tokencomp.settings())), blocking=gap)

    return [_share, _gap]


def build_checks(settings: Settings) -> list[dg.AssetChecksDefinition]:
    """Every asset check of the graph, but the ones assets evaluate themselves (fx_rates, the warehouse's)."""
    return [
        *(negative_tokens_on_pages(s) for s in pullable()),
        negative_reference,
        *(freshness_check(s, settings) for s in source_ids()),
        *lake_checks(settings),
        *mart_checks(settings),
    ]
