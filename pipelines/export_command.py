"""The `tokencomp export` command, the demo's month-end exports, and the invoice tie-out lines of `status`."""

from __future__ import annotations

import argparse
from datetime import date, timedelta
from pathlib import Path

import duckdb
import polars as pl

from pipelines.cli import CliError, _settings, err, out
from pipelines.config import Settings
from pipelines.progress import ProgressDisplay
from pipelines.services.export import ExportResult, export
from pipelines.services.months import MonthError, parse_month
from pipelines.services.warehouse import month_end
from pipelines.summary import shown_path, usd
from pipelines.terminal import plain
from transforms.money import install_money_macros
from warehouse.exports import REPORTS, TABLE_FORMATS, ExportError, Section, section_frame

# What the demo writes at its end: every table report of the last complete month, in every table format.
DEMO_REPORTS: tuple[str, ...] = ("chargeback", "engineers", "reconciliation", "unattributed")


def cmd_export(args: argparse.Namespace) -> int:
    """Write one report of one month to --out, and keep a versioned snapshot of it under exports/."""
    settings = _settings(args)
    try:
        month = parse_month(args.month)
        with ProgressDisplay(err) as display:
            result = export(settings, args.report, month, args.format, Path(args.out), progress=display.stage)
    except (MonthError, ExportError) as exc:
        raise CliError(str(exc)) from exc
    except duckdb.CatalogException as exc:
        first = str(exc).splitlines()[0]
        raise CliError(
            f"the warehouse lacks a table this export reads ({first}); run `tokencomp run` to rebuild it"
        ) from None
    out.print(plain(result.line()), markup=False)
    return 0


def add_export_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register `tokencomp export` on the command parser."""
    reports = "; ".join(f"{r.name} ({'|'.join(r.formats)}): {r.description}" for r in REPORTS.values())
    p = sub.add_parser(
        "export",
        help="write a month-end report (chargeback, engineers, reconciliation, unattributed, ...) to a file",
        description=f"Write REPORT for --month as --format to --out (exactly that path; missing folders are "
        f"created). Reports: {reports}. Money is rounded to cents by largest remainder within each column's "
        "total, so a report ties to the warehouse. A month not closed is provisional (a status column, Parquet "
        "metadata, the XLSX cover sheet, the snapshot folder). Each export also lands in "
        "<data dir>/exports/<month>/v<N>/ with a manifest; new data makes a new version with a diff.",
    )
    p.add_argument("report", metavar="REPORT", choices=list(REPORTS), help=", ".join(REPORTS))
    p.add_argument("--month", required=True, metavar="YYYY-MM", help="the month to export")
    p.add_argument("--format", required=True, choices=sorted({f for r in REPORTS.values() for f in r.formats}))
    p.add_argument("--out", required=True, metavar="FILE", help="file to write (for png: a folder)")
    p.set_defaults(func=cmd_export)


def last_complete_month(start: date, end: date) -> date | None:
    """The last calendar month that ends on or before `end` and overlaps `start` … `end`, if any."""
    month = end.replace(day=1) if month_end(end) == end else (end.replace(day=1) - timedelta(days=1)).replace(day=1)
    return month if month_end(month) >= start else None


def demo_exports(settings: Settings, start: date, end: date) -> list[str]:
    """Write the demo's last complete month in every table format of `DEMO_REPORTS`; return the lines that name
    the files (printed after the summary, so all progress comes before it)."""
    month = last_complete_month(start, end)
    if month is None:
        err.print(f"no complete month in {start} … {end}: the demo writes no month-end exports")
        return []
    jobs = [(name, fmt) for name in DEMO_REPORTS for fmt in TABLE_FORMATS]
    results: list[ExportResult] = []
    with ProgressDisplay(err) as display:
        for done, (name, fmt) in enumerate(jobs, start=1):
            results.append(export(settings, name, month, fmt, None))
            display.stage(f"export {month:%Y-%m}", done, len(jobs), "files")
    folder = shown_path(results[0].snapshot)
    names = {name: " ".join(p.name for r in results if r.report == name for p in r.files) for name in DEMO_REPORTS}
    return [
        f"Month-end exports of {month:%Y-%m} ({results[0].status}) in {folder}:",
        *(f"  {n}" for n in names.values()),
    ]


def invoice_status_lines(settings: Settings) -> list[str]:
    """The invoice tie-out for `status`: one line per invoiced provider and month with a gap (WARN), else one
    line saying how many tie."""
    section = Section("invoices", "", "invoices")
    try:
        with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
            install_money_macros(con)
            frame = section_frame(con, section, None, "", settings.invoice_tolerance_usd)
    except duckdb.Error:
        return []  # an unreadable or older warehouse: the lines above already say to rebuild it
    invoiced = frame.filter(pl.col("tie_out") != "no_invoice")
    if not invoiced.height:
        return ["Invoice tie-out: no invoices loaded (tokencomp reference load invoices PATH)"]
    gaps = invoiced.filter(pl.col("tie_out") == "gap")
    lines = [
        f"WARN invoice tie-out {r['month']:%Y-%m} {r['provider']}: invoice {usd(r['invoice_usd'])} vs billed "
        f"{usd(r['billed_usd'])}, difference {usd(r['difference_usd'])} above tolerance "
        f"{usd(settings.invoice_tolerance_usd)} ({r['cause']})"
        for r in gaps.iter_rows(named=True)
    ]
    return [
        *lines,
        f"Invoice tie-out: {invoiced.height - gaps.height} of {invoiced.height} invoice(s) per provider and month "
        "tie out",
    ]
