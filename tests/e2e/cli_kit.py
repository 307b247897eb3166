"""What the end-to-end tests of the CLI share: run a command and read its printed output, query the warehouse."""

from __future__ import annotations

import io
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import duckdb

from pipelines import cli
from pipelines.cli import main

CENT = Decimal("0.01")


def run_cli(root: Path, *argv: str) -> tuple[int, str]:
    """`tokencomp --data-dir <root>/data ARGV…`: its exit code and what it printed on stdout."""
    printed = io.StringIO()
    cli.out.file = printed
    try:
        return main(["--data-dir", str(root / "data"), *argv]), printed.getvalue()
    finally:
        cli.out.file = None  # type: ignore[assignment]


def warehouse_rows(root: Path, sql: str) -> list[tuple[Any, ...]]:
    """The rows of `sql` against the warehouse published under `root`, opened read-only."""
    with duckdb.connect(str(root / "data" / "warehouse.duckdb"), read_only=True) as con:
        return con.sql(sql).fetchall()


def cents(value: Decimal) -> Decimal:
    """`value` in whole cents, half away from zero, as the exports round."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)
