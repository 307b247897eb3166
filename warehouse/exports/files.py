"""Writing a report's data as CSV and Parquet: data rows only, safe to open in a spreadsheet.

Text that a spreadsheet would run as a formula (a cell starting with `=`, `+`, `-`, `@`, a tab or a carriage
return; OWASP "CSV injection") is neutralized by a leading single quote, in CSV and XLSX alike. Parquet is
not opened by spreadsheets and keeps the values exactly; it carries the report, month and provisional/closed
status in its file metadata.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

FORMULA_START = r"^[=+\-@\t\r]"
METADATA_PREFIX = "tokencomp."


def neutralize(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with every text cell a spreadsheet would read as a formula prefixed by `'` (OWASP CSV injection)."""
    text = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(FORMULA_START)).then(pl.lit("'") + pl.col(c)).otherwise(pl.col(c)).alias(c)
        for c in text
    )


def write_csv(frame: pl.DataFrame, out: Path) -> None:
    """Write the data rows as CSV (header, no banner, no totals), text neutralized and quoted."""
    neutralize(frame).write_csv(out, quote_style="non_numeric")


def write_parquet(frame: pl.DataFrame, out: Path, metadata: Mapping[str, str]) -> None:
    """Write the data rows as Parquet (zstd), `metadata` in the file's key-value metadata as `tokencomp.<key>`."""
    table = frame.to_arrow()
    kv = {
        **(table.schema.metadata or {}),
        **{f"{METADATA_PREFIX}{k}".encode(): v.encode() for k, v in metadata.items()},
    }
    pq.write_table(table.replace_schema_metadata(kv), out, compression="zstd")


def parquet_metadata(path: Path) -> dict[str, str]:
    """The `tokencomp.*` key-value metadata of a Parquet export (report, month, status)."""
    meta = pq.read_schema(path).metadata or {}
    return {
        k.decode()[len(METADATA_PREFIX) :]: v.decode()
        for k, v in meta.items()
        if k.startswith(METADATA_PREFIX.encode())
    }
