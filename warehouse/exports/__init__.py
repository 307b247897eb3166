"""Finance exports: the registry of reports `tokencomp export` writes, and how a report's data is read.

A table report is one or more sections, each a SQL file in `warehouse/sql/exports/` run against the published
warehouse for one month. Its money columns (`*_usd`) are rounded to cents by largest remainder within each
column's total (`sql/exports/_round_cents.sql`, on the project's money macros), so every report still ties to the
warehouse to the cent. CSV and Parquet hold the first section's data rows only; XLSX holds a cover sheet and one
sheet per section. Two reports are built by their own modules and wired through the slots below:
`focus` (`warehouse/exports/focus.py`: `focus_frame(con, month) -> polars.DataFrame`) and `summary`
(`warehouse/exports/summary.py`: `write_html(con, month, out)` and `write_png(con, month, out_dir) -> list[Path]`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from importlib import import_module
from pathlib import Path

import duckdb
import polars as pl

from warehouse.build import sql_text

FORMATS: tuple[str, ...] = ("csv", "xlsx", "parquet", "html", "png")
TABLE_FORMATS: tuple[str, ...] = ("csv", "xlsx", "parquet")
MONEY_SUFFIX = "_usd"
_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)")


class ExportError(ValueError):
    """An export that cannot be made as asked; the message is one line (exit code 1)."""


class ExportUnavailable(ExportError):
    """A registered report whose builder is not part of this build yet."""


@dataclass(frozen=True)
class Section:
    """One table of a report: a sheet in XLSX (`name`), the data of CSV and Parquet for the first one."""

    name: str
    title: str
    sql: str
    keys: tuple[str, ...] = ()  # what identifies a row, for the diff between snapshot versions


@dataclass(frozen=True)
class Report:
    """A report `tokencomp export` can write: its sections (table reports) or its own builder, and its formats."""

    name: str
    description: str
    formats: tuple[str, ...]
    sections: tuple[Section, ...] = ()
    # reports built by their own module: a FOCUS-style frame, or files (HTML, PNG) written straight to a path
    frame: Callable[[duckdb.DuckDBPyConnection, date], pl.DataFrame] | None = None
    write_files: Callable[[duckdb.DuckDBPyConnection, date, str, Path], list[Path]] | None = None


def _module(name: str, report: str) -> object:
    """Import `warehouse.exports.<name>`, or say in one line that this build does not have it yet."""
    try:
        return import_module(f"warehouse.exports.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"warehouse.exports.{name}":
            raise
        raise ExportUnavailable(
            f"report {report!r} is not available in this build (warehouse/exports/{name}.py is missing)"
        ) from None


def _focus_frame(con: duckdb.DuckDBPyConnection, month: date) -> pl.DataFrame:
    """Slot for the FOCUS 1.2 dataset: `warehouse.exports.focus.focus_frame(con, month)`."""
    return _module("focus", "focus").focus_frame(con, month)  # type: ignore[attr-defined, no-any-return]


def _summary_files(con: duckdb.DuckDBPyConnection, month: date, fmt: str, out: Path) -> list[Path]:
    """Slot for the visual report: `write_html(con, month, out)` (one file) or `write_png(con, month, out_dir)`."""
    module = _module("summary", "summary")
    if fmt == "html":
        module.write_html(con, month, out)  # type: ignore[attr-defined]
        return [out]
    out.mkdir(parents=True, exist_ok=True)
    return list(module.write_png(con, month, out))  # type: ignore[attr-defined]


_INVOICES = Section("invoices", "Invoice tie-out", "invoices", ("month", "provider"))
REPORTS: dict[str, Report] = {
    report.name: report
    for report in (
        Report(
            "chargeback",
            "spend per cost centre, provider and model family",
            TABLE_FORMATS,
            (Section("chargeback", "Chargeback", "chargeback", ("month", "cost_centre", "provider", "model_family")),),
        ),
        Report(
            "engineers",
            "per-engineer spend, tokens by kind, band, share of base, fully loaded comp, compute share",
            TABLE_FORMATS,
            (Section("engineers", "Engineers", "engineers", ("month", "engineer_id")),),
        ),
        Report(
            "reconciliation",
            "billed, list, allocated and unallocated per provider, scope and day (XLSX: and against the invoice)",
            TABLE_FORMATS,
            (
                Section(
                    "reconciliation",
                    "Reconciliation",
                    "reconciliation",
                    ("month", "provider", "scope_kind", "scope_id", "billing_date"),
                ),
                _INVOICES,
            ),
        ),
        Report(
            "invoices",
            "the month's invoices against billed spend, with the cause of any gap",
            TABLE_FORMATS,
            (_INVOICES,),
        ),
        Report(
            "unattributed",
            "spend that reaches no engineer: unresolved principals by spend, and unallocated billed dollars",
            TABLE_FORMATS,
            (
                Section(
                    "unattributed",
                    "Unattributed",
                    "unattributed",
                    ("month", "provider", "principal_kind", "principal_id", "scope_kind", "scope_id", "reason"),
                ),
            ),
        ),
        Report("focus", "the month's AI spend as a FOCUS 1.2 dataset", ("csv", "parquet"), frame=_focus_frame),
        Report("summary", "the visual report (png: --out names a folder)", ("html", "png"), write_files=_summary_files),
    )
}


def report(name: str) -> Report:
    """The registered report `name`, or an `ExportError` listing the reports."""
    if name not in REPORTS:
        raise ExportError(f"unknown report {name!r}; expected one of {', '.join(REPORTS)}")
    return REPORTS[name]


def _bound(text: str, params: Mapping[str, object]) -> dict[str, object]:
    """The parameters a SQL text names (DuckDB refuses unused ones)."""
    names = set(_PARAM.findall(text))
    missing = names - set(params)
    if missing:
        raise KeyError(f"SQL parameter(s) not provided: {', '.join(sorted(missing))}")
    return {name: params[name] for name in names}


def round_cents(con: duckdb.DuckDBPyConnection, exact: pl.DataFrame) -> pl.DataFrame:
    """`exact` (with `row_no` and DECIMAL(38,12) `*_usd` columns) with its money rounded to cents by largest
    remainder within each column's total; `row_no` dropped, rows in `row_no` order."""
    money = [c for c in exact.columns if c.endswith(MONEY_SUFFIX)]
    ordered = exact.sort("row_no")
    if not money or exact.height == 0:
        return ordered.with_columns(pl.col(money).cast(pl.Decimal(38, 2))).drop("row_no")
    con.register("report_exact", ordered)
    try:
        rounded = con.sql(sql_text("exports/_round_cents")).pl()
    finally:
        con.unregister("report_exact")
    wide = rounded.pivot(on="money_column", index="row_no", values="amount_usd")
    absent = [pl.lit(None, dtype=pl.Decimal(38, 2)).alias(c) for c in money if c not in wide.columns]
    wide = wide.with_columns(absent)
    return (
        ordered.drop(money)
        .join(wide.select("row_no", *money), on="row_no", how="left")
        .select(exact.columns)
        .with_columns(pl.col(money).cast(pl.Decimal(38, 2)))
        .drop("row_no")
    )


def section_frame(
    con: duckdb.DuckDBPyConnection, section: Section, month: date | None, status: str, tolerance_usd: Decimal
) -> pl.DataFrame:
    """One section of a report for `month` (None: every month, where the SQL allows it), money rounded to cents
    within the section's totals, `status` (provisional or closed) on each row."""
    text = sql_text(f"exports/{section.sql}")
    params = {"month": month, "status": status, "tolerance_usd": tolerance_usd}
    exact = con.sql(text, params=_bound(text, params)).pl()
    return round_cents(con, exact)


def sources_frame(con: duckdb.DuckDBPyConnection, month: date) -> pl.DataFrame:
    """Freshness of each source behind the warehouse, for an export's cover sheet."""
    text = sql_text("exports/sources")
    return con.sql(text, params=_bound(text, {"month": month})).pl()
