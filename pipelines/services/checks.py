"""What each data check finds, from the manifest, raw/, reference/, the lake and the published warehouse.

pipelines/defs/checks.py turns each `Finding` into a Dagster asset check result with its severity: the
blocking ones (negative tokens, money with no FX rate) stop everything downstream; the WARN ones are printed
by `tokencomp run` and kept in `tokencomp status`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import duckdb
import polars as pl

from pipelines.config import Settings
from pipelines.services.ingest import raw_files, read_manifest
from pipelines.services.lake import read_lake
from pipelines.services.reference import FX_RATES, VENDOR_KIND, reference_frame
from pipelines.summary import usd
from transforms.checks import negative_token_fields, row_count_anomalies
from transforms.fx import MissingFxRateError
from transforms.money import install_money_macros
from transforms.salaries import BAND_MONEY
from warehouse.exports import Section, section_frame
from warehouse.report import query

Window = tuple[date, date] | None
"""The billing days a run was for (None: a run with no partitions, which checks everything it has)."""

# Reference columns that can never be negative (fx rates: never zero either), by stored kind.
NON_NEGATIVE: dict[str, tuple[str, ...]] = {
    "seat_prices": ("price_usd",),
    "salaries": ("base", "stock", "bonus", "total"),
    VENDOR_KIND: ("n", *BAND_MONEY),
    FX_RATES: ("units_per_usd",),
}
SHOWN = 10  # rows of a finding listed in its metadata table


@dataclass(frozen=True)
class Finding:
    """One check's verdict: passed or not, one line saying what it found, and the numbers behind it."""

    passed: bool
    description: str
    metadata: dict[str, object] = field(default_factory=dict)


def _table(frame: pl.DataFrame) -> str:
    """The first rows of a finding as a markdown table (the Dagster UI renders it)."""
    head = frame.head(SHOWN)
    lines = ["| " + " | ".join(head.columns) + " |", "|" + "---|" * len(head.columns)]
    lines += ["| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in head.iter_rows()]
    return "\n".join(lines)


def _days(window: Window) -> str:
    return f"{window[0]} … {window[1]}" if window else "every day"


def _signature() -> pl.Expr:
    """Pages answering the same request (endpoint and grouping): a later one replaces an earlier one's days."""
    return pl.concat_str(
        pl.col("request").str.json_path_match("$.path").fill_null(""),
        pl.col("request").str.json_path_match("$.group_by").fill_null(""),
        separator="|",
    ).alias("_signature")


def live_pages(manifest: pl.DataFrame, window: Window) -> pl.DataFrame:
    """The deliveries of one source that overlap `window` and still count: a delivery stops counting once later
    ones cover every day it covers, each answering the same request (a corrected re-pull) or dropped by hand (a
    corrected page from the provider)."""
    keyed = manifest.with_columns(_signature())
    candidates = (
        keyed if window is None else keyed.filter((pl.col("min_date") <= window[1]) & (pl.col("max_date") >= window[0]))
    )
    days = candidates.select("seq", "_signature", pl.date_ranges("min_date", "max_date").alias("day")).explode("day")
    later = keyed.select(
        pl.col("seq").alias("later"),
        pl.col("_signature").alias("later_signature"),
        pl.col("request").is_null().alias("dropped"),
        "min_date",
        "max_date",
    )
    covered = (
        days.join(later, how="cross")
        .filter(
            (pl.col("later") > pl.col("seq"))
            & ((pl.col("later_signature") == pl.col("_signature")) | pl.col("dropped"))
            & (pl.col("min_date") <= pl.col("day"))
            & (pl.col("max_date") >= pl.col("day"))
        )
        .select("seq", "day")
        .unique()
    )
    live = days.join(covered, on=["seq", "day"], how="anti", nulls_equal=True).select("seq").unique()
    return candidates.filter(pl.col("seq").is_in(live["seq"].implode())).drop("_signature")


def negative_tokens_in_pages(settings: Settings, source: str, window: Window) -> Finding:
    """Blocking: negative token counts in the API pages of `source` for the run's days, read before parsing.

    The parser rejects such a record at its line, so the lake would quietly hold the day without it; this stops
    the build until a corrected page arrives (a later page for the same request and days replaces it)."""
    manifest = read_manifest(settings).filter(pl.col("source") == source)
    pages = live_pages(manifest, window)
    found = negative_token_fields(raw_files(settings, pages))
    metadata: dict[str, object] = {"pages_scanned": pages.height, "negative_counts": found.height}
    if not found.height:
        return Finding(
            True, f"{source}: no negative token count in {pages.height} page(s) for {_days(window)}", metadata
        )
    first = found.row(0, named=True)
    metadata["found"] = _table(found.drop("raw_sha256"))
    return Finding(
        False,
        f"{source}: {found.height} negative token count(s) in the pages for {_days(window)}; first: {first['file']} "
        f"line {first['line']}: {first['field']} = {first['value']} (raw sha256 {first['raw_sha256'][:12]}); the "
        "parser rejects those records, so the days would publish without them: re-pull a corrected page and rerun",
        metadata,
    )


def negative_reference_values(settings: Settings) -> Finding:
    """Blocking: reference numbers that must not be negative (seat prices, salaries, bands; fx rates above zero).

    `tokencomp reference load` refuses such lines; this catches what reached reference/ any other way (a file
    stored by an older release or copied in by hand) before the lake prices or converts anything with it."""
    bad: list[pl.DataFrame] = []
    for kind, columns in NON_NEGATIVE.items():
        frame = reference_frame(settings, kind).with_row_index("row", offset=1)
        for column in (c for c in columns if c in frame.columns):
            value = pl.col(column).cast(pl.Decimal(38, 12), strict=False)
            wrong = (value <= 0) if kind == FX_RATES else (value < 0)
            where = pl.concat_str(pl.col("file"), pl.lit(":"), pl.col("line")) if "line" in frame.columns else None
            bad.append(
                frame.filter(wrong.fill_null(False)).select(
                    pl.lit(kind).alias("kind"),
                    (where if where is not None else pl.concat_str(pl.lit("row "), pl.col("row"))).alias("where"),
                    pl.lit(column).alias("column"),
                    pl.col(column).cast(pl.String).alias("value"),
                )
            )
    found = pl.concat(bad) if bad else pl.DataFrame()
    if not found.height:
        return Finding(True, "no negative number in the stored reference data", {"negative_values": 0})
    first = found.row(0, named=True)
    return Finding(
        False,
        f"{found.height} negative number(s) in the stored reference data; first: {first['kind']} {first['where']}: "
        f"{first['column']} = {first['value']}; reload that kind with `tokencomp reference load` and rerun",
        {"negative_values": found.height, "found": _table(found)},
    )


def missing_fx_rate(settings: Settings, exc: MissingFxRateError) -> Finding:
    """Blocking (fx_rates): the first non-USD line with no usable rate, with its delivery (file and record)."""
    first = exc.first
    sha = first.get("raw_sha256") or ""
    manifest = read_manifest(settings).filter(pl.col("sha256") == sha)
    delivery = manifest.row(0, named=True) if manifest.height else {}
    metadata: dict[str, object] = {
        "currency": exc.currency,
        "billing_date": exc.day.isoformat(),
        "latest_rate": exc.latest.isoformat() if exc.latest else "",
        "lines_without_rate": exc.lines,
        "source": first.get("source") or "",
        "file": delivery.get("name") or "",
        "raw_path": delivery.get("raw_path") or "",
        "record_id": first.get("record_id") or "",
    }
    record = str(first.get("record_id") or "")[:12]
    where = f" (first such line: {delivery['name']}, record {record})" if delivery else ""
    return Finding(False, f"{exc}{where}", metadata)


def unpriced_models(settings: Settings, window: Window) -> Finding:
    """WARN: usage of the run's days whose model has no list price (flagged, never priced at $0)."""
    lake = read_lake(settings)
    if window is not None:
        lake = lake.filter(pl.col("billing_date").is_between(*window))
    found = (
        lake.filter(pl.col("pricing_flag") == "unpriced")
        .group_by("provider", "model_raw")
        .agg(pl.len().alias("rows"), pl.col("billing_date").min().alias("first_day"))
        .sort("provider", "model_raw")
        .collect()
    )
    if not found.height:
        return Finding(True, f"every model of {_days(window)} has a price", {"unpriced_models": 0})
    names = ", ".join(
        f"{r['provider']}/{r['model_raw']} ({r['rows']} rows)" for r in found.head(SHOWN).iter_rows(named=True)
    )
    return Finding(
        False,
        f"{found.height} model(s) with no price in {_days(window)}: {names}; add them to the price overrides "
        "file and rerun those days",
        {"unpriced_models": found.height, "unpriced_rows": int(found["rows"].sum()), "found": _table(found)},
    )


def freshness(settings: Settings, source: str, today: date) -> Finding:
    """WARN: an enabled source whose data ends more than `[checks] freshness_days` before today (or never came)."""
    limit = settings.checks.stale_after(source)
    if source not in settings.enabled_sources:
        return Finding(True, f"{source} is not enabled", {"enabled": False})
    through = read_manifest(settings).filter(pl.col("source") == source)["max_date"].max()
    if through is None:
        return Finding(False, f"{source} has delivered no data yet", {"data_through": "", "stale_after_days": limit})
    behind = (today - through).days  # type: ignore[operator]
    metadata = {"data_through": str(through), "days_behind": behind, "stale_after_days": limit}
    if behind <= limit:
        return Finding(True, f"{source} has data through {through}", metadata)
    return Finding(
        False, f"{source} is stale: its data ends {through}, {behind} days before {today} (limit {limit})", metadata
    )


def row_count_anomaly(settings: Settings, window: Window) -> Finding:
    """WARN: a source's lake rows on a day of the run far from their median on the same weekday of earlier weeks."""
    if window is None:
        return Finding(True, "no run window: nothing to compare", {})
    checks = settings.checks
    counts = (
        read_lake(settings)
        .filter(pl.col("billing_date").is_between(window[0] - timedelta(weeks=checks.row_count_weeks), window[1]))
        .group_by("source", "billing_date")
        .agg(pl.len().alias("rows"))
        .collect()
    )
    found = row_count_anomalies(
        counts, *window, checks.row_count_weeks, checks.row_count_tolerance, checks.row_count_min_rows
    )
    metadata: dict[str, object] = {"anomalies": found.height, "tolerance": checks.row_count_tolerance}
    if not found.height:
        return Finding(True, f"row counts of {_days(window)} are within their trailing medians", metadata)
    first = found.row(0, named=True)
    metadata["found"] = _table(found)
    return Finding(
        False,
        f"{found.height} source day(s) off their trailing median; first: {first['source']} {first['billing_date']} "
        f"has {first['rows']:,} rows against a median of {first['median']:,.0f} on the same weekday of "
        f"{first['history_days']} earlier weeks (tolerance {checks.row_count_tolerance:.0%})",
        metadata,
    )


def unattributed_share(settings: Settings, window: Window) -> Finding:
    """WARN: a month of the run whose spend reaching no engineer is over `[checks] unattributed_share` of its spend."""
    threshold = settings.checks.unattributed_share
    first, last = window or (date.min, date.max)
    found = query(
        settings.warehouse_path,
        "unattributed_share",
        {"first_month": first.replace(day=1), "last_month": last, "threshold": threshold},
    )
    metadata: dict[str, object] = {"months_over": found.height, "threshold": str(threshold)}
    if not found.height:
        return Finding(
            True, f"unattributed spend is at most {threshold:.0%} of spend in every month of the run", metadata
        )
    worst = found.sort("share", descending=True).row(0, named=True)
    metadata["found"] = _table(found)
    return Finding(
        False,
        f"{found.height} month(s) with unattributed spend over {threshold:.0%}; {worst['month']:%Y-%m}: "
        f"{usd(worst['unattributed_usd'])} of {usd(worst['spend_usd'])} ({worst['share']:.1%}) reaches no engineer "
        "(mart.unattributed: add aliases or route members and rerun)",
        metadata,
    )


def invoice_gap(settings: Settings) -> Finding:
    """WARN: a provider's invoice for a month differs from billed spend by more than `[invoices] tolerance_usd`."""
    tolerance = settings.invoice_tolerance_usd
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        install_money_macros(con)
        frame = section_frame(con, Section("invoices", "", "invoices"), None, "", tolerance)
    invoiced = frame.filter(pl.col("tie_out") != "no_invoice")
    gaps = invoiced.filter(pl.col("tie_out") == "gap")
    metadata: dict[str, object] = {"invoices": invoiced.height, "gaps": gaps.height, "tolerance_usd": str(tolerance)}
    if not invoiced.height:
        return Finding(True, "no invoices loaded (tokencomp reference load invoices PATH)", metadata)
    if not gaps.height:
        return Finding(True, f"{invoiced.height} invoice(s) per provider and month tie out", metadata)
    r = gaps.row(0, named=True)
    metadata["found"] = _table(gaps.select("month", "provider", "invoice_usd", "billed_usd", "difference_usd", "cause"))
    return Finding(
        False,
        f"{gaps.height} invoice(s) off billed spend by more than {usd(tolerance)}; first: {r['month']:%Y-%m} "
        f"{r['provider']}: invoice {usd(r['invoice_usd'])} vs billed {usd(r['billed_usd'])}, difference "
        f"{usd(r['difference_usd'])} ({r['cause']})",
        metadata,
    )
