"""Finance outputs, one partition per month: the closed books and the month-end exports, and the jobs that make them.

- `exports/closed_books`: what `tokencomp close` freezes (data/closed/<YYYY-MM>/fct_spend.parquet). The `close`
  job freezes a month as the published warehouse shows it; the `reprice` job recomputes a closed month from the
  lake (`tokencomp reprice` rebuilds the month's lake days before and republishes the warehouse after).
- `exports/<report>`: the month-end pack finance files, written by pipelines/services/export.py into the month's
  versioned snapshot data/exports/<YYYY-MM>/v<N>[-provisional]/ (provisional until the month is closed).
- `month_close` (scheduled on `schedule.month_close_day`, pipelines/defs/automation.py) closes the previous month
  and writes its pack. Every partition is one month; a backfill of several months runs them one by one.
"""

from collections.abc import Iterator

import dagster as dg
import duckdb

from pipelines.defs.partitions import month_of
from pipelines.defs.resources import TokencompResource
from pipelines.progress import report_progress
from pipelines.services.export import export
from pipelines.services.months import MonthError, close_month, frozen_books, refreeze_month, spend_by_provider
from pipelines.services.warehouse import closed_months, frozen_path
from warehouse.exports import REPORTS, ExportError

GROUP = "exports"
MONTH_TAG = "tokencomp/month"  # YYYY-MM on every close, reprice and month_close run
CLOSE_JOB, REPRICE_JOB, MONTH_CLOSE_JOB = "close", "reprice", "month_close"
CLOSED_BOOKS = dg.AssetKey([GROUP, "closed_books"])
# The month-end pack: each report in every format it is written in (one asset each).
PACK: tuple[str, ...] = ("chargeback", "reconciliation", "focus")
# The tables each finance output reads (each warehouse table is its own asset, keyed [schema, table]).
READS: dict[str, tuple[str, ...]] = {
    "closed_books": ("core/fct_spend",),
    "chargeback": ("core/fct_spend", "core/dim_engineer", "core/dim_scope", "mart/engineer_monthly"),
    "reconciliation": ("mart/reconciliation", "core/fct_billed_daily", "core/fct_invoice"),
    "focus": ("mart/focus", "core/fct_spend"),
}


def table_key(table: str) -> dg.AssetKey:
    """The asset that publishes warehouse table `schema/table`."""
    return dg.AssetKey(table.split("/"))


def _reads(name: str) -> list[dg.AssetKey]:
    return list(dict.fromkeys(table_key(t) for t in READS[name]))


class BooksConfig(dg.Config):
    """How exports/closed_books treats a month that is already closed."""

    reprice: bool = False
    """False: freeze an open month as the warehouse shows it, keep a closed one as it is. True (the `reprice`
    job): recompute a closed month from the lake at today's prices and aliases and replace its books."""


def closed_books_asset(months: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    """The asset exports/closed_books over the billing months of `months`."""

    @dg.asset(
        key=CLOSED_BOOKS,
        group_name=GROUP,
        kinds={"polars", "parquet"},
        owners=["team:finance"],
        partitions_def=months,
        backfill_policy=dg.BackfillPolicy.multi_run(1),  # each month is closed on its own
        pool="duckdb_warehouse",  # it writes the books every warehouse build reads
        deps=_reads("closed_books"),
        output_required=False,
        description=(
            "The month's closed books (data/closed/<YYYY-MM>/fct_spend.parquet): core.fct_spend of the month frozen "
            "as it was published when the month was closed. Later builds keep these rows; late data for the month "
            "is posted into the open month as corrections. Only a re-price (the `reprice` job) replaces them."
        ),
    )
    def _closed_books(
        context: dg.AssetExecutionContext, config: BooksConfig, tokencomp: TokencompResource
    ) -> Iterator[dg.MaterializeResult]:
        settings = tokencomp.settings()
        month = month_of(context)
        extra: dict[str, object] = {}
        try:
            if config.reprice:
                diff = refreeze_month(settings, month)
                action, extra = "repriced", {"change_usd": str(diff.total_change)}
            elif month in closed_months(settings):
                action = "kept: already closed"
            else:
                close_month(settings, month)
                action = "closed"
        except MonthError as exc:
            if config.reprice or not settings.warehouse_path.exists():
                raise dg.Failure(description=str(exc)) from None
            context.log.warning(f"exports/closed_books {month:%Y-%m}: {exc}")  # no spend: nothing to close
            return
        rows = frozen_books(settings, month)
        totals = spend_by_provider(rows)
        note = f"{month:%Y-%m} {action}: " + ", ".join(
            f"{r['provider']} {r['spend_usd']:,.2f}" for r in totals.iter_rows(named=True)
        )
        report_progress(context.log, "exports/closed_books", 1, 1, "months", note)
        yield dg.MaterializeResult(
            metadata={
                "action": action,
                "path": dg.MetadataValue.path(str(frozen_path(settings, month))),
                "dagster/row_count": rows.height,
                "spend_usd": str(rows["spend_usd"].sum()),
                "spend_usd_by_provider": {r["provider"]: str(r["spend_usd"]) for r in totals.iter_rows(named=True)},
                **extra,
            }
        )

    return _closed_books


def report_asset(name: str, months: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    """The asset exports/<name>: one report of the month-end pack, in every format it is written in."""
    rep = REPORTS[name]

    @dg.asset(
        key=[GROUP, name],
        group_name=GROUP,
        kinds={"duckdb", "csv", *(f for f in rep.formats if f != "csv")},
        owners=["team:finance"],
        partitions_def=months,
        backfill_policy=dg.BackfillPolicy.multi_run(1),
        deps=[CLOSED_BOOKS, *_reads(name)],  # after the close, so a closed month's pack says `closed`
        output_required=False,
        description=(
            f"Month-end {name}: {rep.description}, as {', '.join(rep.formats)}, in the month's versioned snapshot "
            "data/exports/<YYYY-MM>/v<N>/ (with a manifest; `-provisional` until the month is closed). Money is "
            "rounded to cents once and ties to the warehouse; new data makes a new version with a diff."
        ),
    )
    def _report(context: dg.AssetExecutionContext, tokencomp: TokencompResource) -> Iterator[dg.MaterializeResult]:
        settings = tokencomp.settings()
        month = month_of(context)
        results = []
        try:
            for done, fmt in enumerate(rep.formats, start=1):
                results.append(export(settings, name, month, fmt, None))
                report_progress(context.log, f"exports/{name}", done, len(rep.formats), "files")
        except ExportError as exc:
            if not settings.warehouse_path.exists():
                raise dg.Failure(description=str(exc)) from None
            context.log.warning(f"exports/{name} {month:%Y-%m}: {exc}")  # no data for the month: no report
            return
        except duckdb.CatalogException as exc:
            raise dg.Failure(description=f"the warehouse lacks a table {name} reads: {exc}") from None
        last = results[-1]
        files = sorted({p.name for r in results for p in r.files})
        yield dg.MaterializeResult(
            metadata={
                "snapshot": dg.MetadataValue.path(str(last.snapshot)),
                "version": last.version,
                "status": last.status,
                "files": ", ".join(files),
                "outcome": ", ".join(dict.fromkeys(r.outcome for r in results)),
                **({"diff": last.diff} if last.diff else {}),
                **{f"total_{column}": str(total) for column, total in last.totals.items() if total is not None},
            }
        )

    return _report


def month_assets(months: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    """Every finance output of a month: the closed books, then each report of the pack."""
    return [closed_books_asset(months), *(report_asset(name, months) for name in PACK)]


REPRICE_CONFIG = {"ops": {CLOSED_BOOKS.to_python_identifier(): {"config": {"reprice": True}}}}

close_job = dg.define_asset_job(
    CLOSE_JOB,
    selection=[CLOSED_BOOKS],
    description="Close one month (`tokencomp close --month M`): freeze its books as the published warehouse shows it.",
)

reprice_job = dg.define_asset_job(
    REPRICE_JOB,
    selection=[CLOSED_BOOKS],
    config=REPRICE_CONFIG,
    description=(
        "Re-price one closed month: recompute its books from the lake at today's prices and aliases. "
        "`tokencomp reprice --month M` rebuilds the month's lake days first and republishes the warehouse after."
    ),
)

month_close_job = dg.define_asset_job(
    MONTH_CLOSE_JOB,
    selection=dg.AssetSelection.groups(GROUP),
    description="Month-end: close the month's books (a month already closed is kept) and write its finance pack.",
)
