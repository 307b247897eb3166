"""Read-only queries over the published warehouse, for the CLI summary and status."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import duckdb
import polars as pl

from warehouse.build import run_sql, sql_text


def query(warehouse: Path, report: str, params: Mapping[str, object] | None = None) -> pl.DataFrame:
    """Run `sql/reports/<report>.sql` against the published warehouse, opened read-only."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        run_sql(con, sql_text("_macros"), {})
        return con.sql(sql_text(f"reports/{report}"), params=dict(params or {})).pl()
