"""Reference data (roster, aliases, scopes, salaries): validated on load, stored as Parquet in reference/.

Reference files are small and curated by people, so a bad row fails the whole load with the file,
line and field named, instead of silently changing who is attributed or which band applies.
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl

from pipelines.config import Settings

KINDS: dict[str, pl.Schema] = {
    "roster": pl.Schema(
        {
            "engineer_id": pl.String,
            "email": pl.String,
            "name": pl.String,
            "team": pl.String,
            "cost_centre": pl.String,
            "level": pl.String,
            "title": pl.String,
            "location": pl.String,
            "valid_from": pl.Date,
            "valid_to": pl.Date,
        }
    ),
    "aliases": pl.Schema(
        {"engineer_id": pl.String, "kind": pl.String, "value": pl.String, "valid_from": pl.Date, "valid_to": pl.Date}
    ),
    "scopes": pl.Schema(
        {
            "provider": pl.String,
            "scope_kind": pl.String,
            "scope_id": pl.String,
            "name": pl.String,
            "cost_centre": pl.String,
            "valid_from": pl.Date,
            "valid_to": pl.Date,
        }
    ),
    "salaries": pl.Schema(
        {
            "timestamp": pl.Date,
            "company": pl.String,
            "level": pl.String,
            "title": pl.String,
            "location": pl.String,
            "yearsofexperience": pl.Int64,
            "base": pl.Int64,
            "stock": pl.Int64,
            "bonus": pl.Int64,
            "total": pl.Int64,
        }
    ),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "roster": ("engineer_id", "email", "level", "location", "valid_from"),
    "aliases": ("engineer_id", "kind", "value"),
    "scopes": ("provider", "scope_kind", "scope_id"),
    "salaries": ("company", "level", "location", "base", "total"),
}
LATER_KINDS = ("seat_prices", "invoices")  # arrive with the cost-engine issue (#3)


class ReferenceError(ValueError):
    """A reference file that cannot be loaded; the message names file, line and field."""


def _typed(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """Parse CSV text leniently (null on failure) so the caller can name the first bad cell."""
    if dtype == pl.Date:
        return expr.str.to_date("%Y-%m-%d", strict=False)
    if dtype == pl.Int64:
        return expr.str.to_integer(strict=False)
    return expr


def read_reference_file(kind: str, path: Path) -> pl.DataFrame:
    """Read and validate one CSV of a reference kind; raise `ReferenceError` naming file, line and field."""
    schema = KINDS[kind]
    try:
        text = pl.read_csv(path, infer_schema=False)
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError, UnicodeDecodeError) as exc:
        raise ReferenceError(f"{path}: not a readable CSV: {exc}") from exc
    missing = [c for c in schema.names() if c not in text.columns]
    if missing:
        raise ReferenceError(f"{path}: missing column {missing[0]!r}")
    text = text.select(schema.names()).with_row_index("line", offset=2)
    typed = text.with_columns(
        [_typed(pl.col(c).str.strip_chars().replace("", None), t).alias(c) for c, t in schema.items()]
    )
    for column, dtype in schema.items():
        bad_cast = typed.filter(pl.col(column).is_null() & text[column].str.strip_chars().ne(""))
        bad_null = typed.filter(pl.col(column).is_null()) if column in REQUIRED[kind] else bad_cast.clear()
        bad = pl.concat([bad_cast, bad_null]).sort("line")
        if bad.height:
            line = bad["line"][0]
            value = text.filter(pl.col("line") == line)[column][0]
            problem = "missing" if value is None or not str(value).strip() else f"not a valid {dtype}: {value!r}"
            raise ReferenceError(f"{path}:{line}: field {column!r}: {problem}")
    lowered = {"roster": ["email"], "aliases": []}.get(kind, [])
    frame = typed.drop("line").with_columns([pl.col(c).str.to_lowercase() for c in lowered])
    if kind == "aliases":
        frame = frame.with_columns(
            pl.when(pl.col("kind").str.contains("email"))
            .then(pl.col("value").str.to_lowercase())
            .otherwise(pl.col("value"))
        )
    return frame


def load_reference(settings: Settings, kind: str, paths: list[Path]) -> int:
    """Replace the stored reference of `kind` with the rows of `paths` (validated); return the row count."""
    if kind in LATER_KINDS:
        raise ReferenceError(f"reference kind {kind!r} is not supported yet (arrives with the cost engine, #3)")
    if kind not in KINDS:
        raise ReferenceError(f"unknown reference kind {kind!r}; expected one of {', '.join(KINDS)}")
    files: list[Path] = []
    for p in paths:
        if not p.exists():
            raise ReferenceError(f"{p}: no such file or directory")
        files.extend(sorted(f for f in p.rglob("*.csv")) if p.is_dir() else [p])
    if not files:
        raise ReferenceError(f"no CSV files for {kind} in {', '.join(map(str, paths))}")
    frame = pl.concat([read_reference_file(kind, f) for f in files]).unique(maintain_order=True)
    target = settings.reference / f"{kind}.parquet"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    frame.write_parquet(tmp)
    os.replace(tmp, target)
    return frame.height


def reference_frame(settings: Settings, kind: str) -> pl.DataFrame:
    """The stored reference of `kind`, or an empty frame of its schema when none was loaded."""
    path = settings.reference / f"{kind}.parquet"
    return pl.read_parquet(path) if path.exists() else KINDS[kind].to_frame()
