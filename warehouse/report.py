"""Read-only queries over the published warehouse, for the CLI summary and status."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import duckdb
import polars as pl

from transforms.money import install_money_macros
from warehouse.build import sql_text


def query(warehouse: Path, report: str, params: Mapping[str, object] | None = None) -> pl.DataFrame:
    """Run `sql/reports/<report>.sql` against the published warehouse, opened read-only."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        install_money_macros(con)  # reports divide money with the same macros as the build
        return con.sql(sql_text(f"reports/{report}"), params=dict(params or {})).pl()
