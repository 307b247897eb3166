"""`tokencomp close` and `tokencomp reprice`: month-end as Dagster runs in the project's instance (the UI's history)."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from rich.table import Table

from pipelines.cli import EXIT_OK, CliError, _settings, out, through_dagster
from pipelines.config import Settings
from pipelines.services.months import (
    MonthDiff,
    MonthError,
    check_close,
    check_reprice,
    frozen_books,
    month_diff,
    parse_month,
    spend_by_provider,
)
from pipelines.summary import usd as _usd
from pipelines.terminal import shown


def _month(args: argparse.Namespace, settings: Settings) -> date:
    month = parse_month(args.month)
    first = settings.first_partition_date.replace(day=1)
    if month < first:
        raise MonthError(f"{month:%Y-%m} is before the first partition month {first:%Y-%m}")
    return month


def _run_month(settings: Settings, args: argparse.Namespace, command: str, month: date) -> None:
    """Run the month's Dagster run(s) (`through_dagster`: WARN checks printed, a failure is one line and its code)."""
    from pipelines.runner import run_month

    through_dagster(
        f"running the {command} job for {month:%Y-%m} through Dagster",
        lambda instance, display, say: run_month(
            command,
            month,
            config_path=Path(args.config) if args.config else None,
            data_dir=settings.data_dir,
            instance=instance,
            progress=display,
            say=say,
        ),
    )


def close_command(args: argparse.Namespace) -> int:
    """Freeze a month's books as the warehouse shows them now (the `close` job)."""
    settings = _settings(args)
    try:
        month = _month(args, settings)
        check_close(settings, month)
    except MonthError as exc:
        raise CliError(str(exc)) from exc
    _run_month(settings, args, "close", month)
    totals = spend_by_provider(frozen_books(settings, month))
    spend = ", ".join(f"{shown(r['provider'])} {_usd(r['spend_usd'])}" for r in totals.iter_rows(named=True))
    out.print(f"closed {month:%Y-%m}: {spend}. Later data for it is posted into the open month as corrections.")
    return EXIT_OK


def reprice_command(args: argparse.Namespace) -> int:
    """Recompute a closed month on purpose (lake, books, warehouse) and print what changed per provider and engineer."""
    settings = _settings(args)
    try:
        month = _month(args, settings)
        check_reprice(settings, month)
    except MonthError as exc:
        raise CliError(str(exc)) from exc
    before = frozen_books(settings, month)
    _run_month(settings, args, "reprice", month)
    _print_diff(month_diff(month, before, frozen_books(settings, month)))
    return EXIT_OK


def _print_diff(diff: MonthDiff) -> None:
    if diff.by_provider.height == 0:
        out.print(f"re-priced {diff.month:%Y-%m}: nothing changed")
        return
    for title, frame, key in (
        ("provider", diff.by_provider, "provider"),
        ("engineer", diff.by_engineer, "engineer_id"),
    ):
        table = Table(title=f"{diff.month:%Y-%m} re-priced: change per {title}")
        for col in (*(["provider"] if key == "engineer_id" else []), title, "before", "after", "change"):
            table.add_column(col, justify="right" if col in {"before", "after", "change"} else "left")
        for r in frame.iter_rows(named=True):
            label = shown(r[key]) if r[key] else "(unattributed)"
            cells = [label, _usd(r["before_usd"]), _usd(r["after_usd"]), _usd(r["change_usd"])]
            table.add_row(*([shown(r["provider"]), *cells] if key == "engineer_id" else cells))
        out.print(table)
    out.print(f"re-priced {diff.month:%Y-%m}: net change {_usd(diff.total_change)}")  # type: ignore[arg-type]
