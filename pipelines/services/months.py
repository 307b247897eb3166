"""Month-end: closing a month freezes its books; re-pricing one recomputes it on purpose and reports the diff.

A closed month's spend rows are kept in data/closed/<YYYY-MM>/fct_spend.parquet exactly as they were at
close. Later builds keep them; anything the lake now says differently about that month (late data, new
aliases, new prices) is posted into the current open month as `charge_class = 'correction'`. Only
`tokencomp reprice --month M` changes a closed month, and it prints what moved, per provider and engineer.
Dagster runs these as the monthly asset exports/closed_books (pipelines/defs/months.py).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import polars as pl

from pipelines.config import Settings
from pipelines.services.storage import append_jsonl, replace_parquet
from pipelines.services.warehouse import books_dir, build_inputs, closed_months, frozen_path
from warehouse.build import build


class MonthError(ValueError):
    """A close or re-price that cannot be done as asked (exit code 1)."""


@dataclass(frozen=True)
class MonthDiff:
    """What re-pricing a closed month changed: spend per provider and per engineer, before and after."""

    month: date
    by_provider: pl.DataFrame
    by_engineer: pl.DataFrame

    @property
    def total_change(self) -> object:
        """Net change of the month's spend, USD."""
        return self.by_provider["change_usd"].sum()


def parse_month(text: str) -> date:
    """`2026-09` → 2026-09-01, the first day of the month."""
    try:
        year, month = (int(x) for x in text.split("-"))
        return date(year, month, 1)
    except ValueError as exc:
        raise MonthError(f"not a month (YYYY-MM): {text!r}") from exc


def _log(settings: Settings, record: dict[str, object]) -> None:
    append_jsonl(books_dir(settings) / "months.jsonl", [record])


def _month_rows(warehouse: Path, month: date, *, computed_only: bool) -> pl.DataFrame:
    query = "select * from core.fct_spend where date_trunc('month', billing_date)::date = $month" + (
        " and charge_class is null" if computed_only else ""
    )
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.sql(query, params={"month": month}).pl()


def check_close(settings: Settings, month: date) -> None:
    """Raise MonthError unless `month` can be closed now: still open, a warehouse published, spend in it."""
    if month in closed_months(settings):
        raise MonthError(f"{month:%Y-%m} is already closed; use `tokencomp reprice --month {month:%Y-%m}` to change it")
    if not settings.warehouse_path.exists():
        raise MonthError("no warehouse yet: run `tokencomp run` for the month first")
    if _month_rows(settings.warehouse_path, month, computed_only=False).height == 0:
        raise MonthError(f"the warehouse has no spend in {month:%Y-%m}; nothing to close")


def check_reprice(settings: Settings, month: date) -> None:
    """Raise MonthError unless `month` is closed (an open month is recomputed by every run anyway)."""
    if month not in closed_months(settings):
        raise MonthError(f"{month:%Y-%m} is not closed; an open month is recomputed by every run")


def spend_by_provider(rows: pl.DataFrame) -> pl.DataFrame:
    """A month's books summed per provider (`provider`, `spend_usd`), providers in order."""
    return rows.group_by("provider").agg(pl.col("spend_usd").sum()).sort("provider")


def frozen_books(settings: Settings, month: date) -> pl.DataFrame:
    """The frozen spend rows of closed `month`, as they are on disk now."""
    return pl.read_parquet(frozen_path(settings, month))


def close_month(settings: Settings, month: date) -> pl.DataFrame:
    """Freeze `month` as the published warehouse shows it; return its spend per provider."""
    check_close(settings, month)
    rows = _month_rows(settings.warehouse_path, month, computed_only=False)
    replace_parquet(rows, frozen_path(settings, month))
    totals = spend_by_provider(rows)
    _log(
        settings,
        {
            "month": f"{month:%Y-%m}",
            "action": "close",
            "at": datetime.now(UTC).isoformat(),
            "spend_usd": {r["provider"]: str(r["spend_usd"]) for r in totals.iter_rows(named=True)},
        },
    )
    return totals


def _diff(old: pl.DataFrame, new: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    before = old.group_by(keys).agg(pl.col("spend_usd").sum().alias("before_usd"))
    after = new.group_by(keys).agg(pl.col("spend_usd").sum().alias("after_usd"))
    zero = pl.lit(0, dtype=pl.Decimal(38, 12))
    return (
        before.join(after, on=keys, how="full", coalesce=True, nulls_equal=True)
        .with_columns(pl.col("before_usd").fill_null(zero), pl.col("after_usd").fill_null(zero))
        .with_columns((pl.col("after_usd") - pl.col("before_usd")).alias("change_usd"))
        .filter(pl.col("change_usd") != 0)
        .sort(keys, nulls_last=True)
    )


def month_diff(month: date, old: pl.DataFrame, new: pl.DataFrame) -> MonthDiff:
    """What moved between two versions of a month's books, per provider and per engineer."""
    return MonthDiff(month, _diff(old, new, ["provider"]), _diff(old, new, ["provider", "engineer_id"]))


def refreeze_month(settings: Settings, month: date) -> MonthDiff:
    """Recompute closed `month` from the lake as it is now (today's prices, overrides and aliases), replace its
    frozen books and return what changed per provider and engineer.

    The month's lake days are rebuilt before (lake/usage) and the warehouse is republished after (it reads the
    new books): `tokencomp reprice` runs the three steps in order."""
    check_reprice(settings, month)
    old = frozen_books(settings, month)
    with tempfile.TemporaryDirectory(dir=settings.data_dir) as tmp:
        scratch = Path(tmp) / "warehouse.duckdb"
        build(build_inputs(settings, unfreeze=month), scratch)
        computed = _month_rows(scratch, month, computed_only=True)
    # corrections booked into this month for earlier months stay in its books
    booked = old.filter(pl.col("charge_class") == "correction")
    new = pl.concat([computed, booked], how="vertical_relaxed")
    replace_parquet(new, frozen_path(settings, month))
    diff = month_diff(month, old, new)
    _log(
        settings,
        {
            "month": f"{month:%Y-%m}",
            "action": "reprice",
            "at": datetime.now(UTC).isoformat(),
            "change_usd": str(diff.total_change),
        },
    )
    return diff
