"""Exact money arithmetic in SQL: the DuckDB macros every money computation uses, in one file.

`sql/money_macros.sql` holds the conversions between DECIMAL(38,12) and integer units of 1e-12 USD, the
one largest-remainder split (allocation, seats, the shared-route split) and exact division (FX conversion
rounds; run-rates and shares truncate at 12 places). The lake build and the warehouse
both install it from here, so a split computes the same shares wherever it runs.
"""

from __future__ import annotations

from importlib.resources import files

import duckdb


def install_money_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Create the money macros (units, largest remainder, division) on a connection."""
    con.execute(files("transforms").joinpath("sql/money_macros.sql").read_text())
