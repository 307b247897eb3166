"""Provider invoices (`tokencomp reference load invoices PATH`): validated and stored in reference/invoices.parquet.

An invoice CSV has one row per invoice line: `provider, invoice_id, period (YYYY-MM), currency, total`, plus the
optional line columns `kind` (usage, tax, credit, refund, fee, other), `amount` and `description`. An invoice
given by its total alone is one row with no line. The lines of an invoice sum to its total, and the total is the
same on each of its rows. Loads accumulate: loading an invoice again (same provider and invoice id) replaces it.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from pipelines.config import Settings
from pipelines.services.reference import KINDS, ReferenceError, reference_frame
from pipelines.services.storage import replace_parquet

INVOICES = "invoices"
LINE_KINDS: tuple[str, ...] = ("usage", "tax", "credit", "refund", "fee", "other")
REQUIRED_COLUMNS: tuple[str, ...] = ("provider", "invoice_id", "period", "currency", "total")
LINE_COLUMNS: tuple[str, ...] = ("kind", "amount", "description")
_AMOUNT = r"^-?\d+(\.\d{1,12})?$"


def _first_bad(frame: pl.DataFrame, bad: pl.Expr, path: Path, field: str, problem: str) -> None:
    rows = frame.filter(bad.fill_null(True)).sort("line")
    if rows.height:
        row = rows.row(0, named=True)
        raise ReferenceError(f"{path}:{row['line']}: field {field!r}: {problem}: {row[field]!r}")


def read_invoices(path: Path) -> pl.DataFrame:
    """Read and validate one invoice CSV into the stored schema; a bad cell names file, line and field."""
    try:
        text = pl.read_csv(path, infer_schema=False)
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError, UnicodeDecodeError) as exc:
        raise ReferenceError(f"{path}: not a readable CSV: {exc}") from exc
    missing = [c for c in REQUIRED_COLUMNS if c not in text.columns]
    if missing:
        raise ReferenceError(f"{path}: missing column {missing[0]!r} (expected {', '.join(REQUIRED_COLUMNS)})")
    absent = [pl.lit(None, dtype=pl.String).alias(c) for c in LINE_COLUMNS if c not in text.columns]
    frame = (
        text.with_columns(absent)
        .select(*REQUIRED_COLUMNS, *LINE_COLUMNS)
        .with_columns(pl.all().str.strip_chars().replace("", None))
        .with_columns(pl.col("currency").str.to_uppercase(), pl.col("kind").str.to_lowercase())
        .with_row_index("line", offset=2)
    )
    for column in ("provider", "invoice_id"):
        _first_bad(frame, pl.col(column).is_null(), path, column, "missing")
    _first_bad(frame, ~pl.col("period").str.contains(r"^\d{4}-(0[1-9]|1[0-2])$"), path, "period", "not a month YYYY-MM")
    _first_bad(frame, pl.col("currency") != "USD", path, "currency", "only USD invoices can be tied out")
    _first_bad(frame, ~pl.col("total").str.contains(_AMOUNT), path, "total", "not a decimal amount")
    has_line = pl.col("kind").is_not_null() | pl.col("amount").is_not_null()
    _first_bad(
        frame, has_line & ~pl.col("kind").is_in(LINE_KINDS), path, "kind", f"expected one of {', '.join(LINE_KINDS)}"
    )
    _first_bad(frame, has_line & ~pl.col("amount").str.contains(_AMOUNT), path, "amount", "not a decimal amount")
    typed = frame.with_columns(
        (pl.col("period") + "-01").str.to_date("%Y-%m-%d").alias("period_date"),
        pl.col("total").str.to_decimal(scale=12).alias("total_usd"),
        pl.col("amount").str.to_decimal(scale=12).alias("amount_usd"),
    )
    key = ["provider", "invoice_id"]
    for column, typed_column in (("total", "total_usd"), ("period", "period_date")):
        differs = pl.col(typed_column) != pl.col(typed_column).first().over(key)
        _first_bad(typed, differs, path, column, f"differs from the invoice's first row (one {column} per invoice)")
    typed = typed.drop("period", "total", "amount").rename(
        {"period_date": "period", "total_usd": "total", "amount_usd": "amount"}
    )
    sums = typed.filter(pl.col("kind").is_not_null()).group_by(key).agg(pl.col("amount").sum().alias("lines"))
    unbalanced = typed.join(sums, on=key).filter(pl.col("lines") != pl.col("total"))
    if unbalanced.height:
        row = unbalanced.sort("line").row(0, named=True)
        raise ReferenceError(
            f"{path}:{row['line']}: field 'amount': the lines of invoice {row['invoice_id']!r} sum to "
            f"{row['lines']}, not its total {row['total']}"
        )
    stored = typed.filter(pl.col("kind").is_not_null() | (pl.len().over(key) == 1)).select(
        "provider",
        "invoice_id",
        "period",
        "currency",
        "total",
        pl.col("kind").alias("line_kind"),
        pl.col("amount").alias("line_amount"),
        "description",
    )
    return stored.cast(dict(KINDS[INVOICES]))  # type: ignore[arg-type]


def load_invoices(settings: Settings, files: list[Path]) -> int:
    """Add the invoices of `files` to reference/invoices.parquet (an invoice loaded again replaces the stored one);
    return the number of invoice rows loaded."""
    new = pl.concat([read_invoices(f) for f in files])
    key = ["provider", "invoice_id"]
    stored = reference_frame(settings, INVOICES).join(new.select(key).unique(), on=key, how="anti")
    frame = pl.concat([stored, new]).sort("provider", "period", "invoice_id", "line_kind", nulls_last=True)
    replace_parquet(frame, settings.reference / f"{INVOICES}.parquet")
    return new.height
