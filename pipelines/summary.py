"""The demo's closing summary and the read-only command it prints: what a user sees after `tokencomp demo`."""

from __future__ import annotations

import json
import os
import shlex
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from rich import box
from rich.console import RenderableType
from rich.table import Table

from pipelines.config import Settings
from pipelines.terminal import shown


def usd(value: Decimal | None, *, cents: bool = True) -> str:
    return f"${(value or Decimal(0)).quantize(Decimal('0.01') if cents else Decimal(1)):,}"


SUMMARY_WIDTH = 80  # the demo summary fits a classic terminal, even when piped to a wider one


def summary(settings: Settings) -> list[RenderableType]:
    """The demo's summary: spend per provider, the top 10 engineers, attribution, and where things are."""
    from warehouse.report import query

    wh = settings.warehouse_path
    providers = query(wh, "providers")
    table = summary_table("Spend per provider (billed dollars allocated to usage)")
    for col in ("provider", "spend", "billed", "list price", "unattributed"):
        table.add_column(col, justify="left" if col == "provider" else "right", no_wrap=col != "provider")
    for r in providers.iter_rows(named=True):
        table.add_row(
            shown(r["provider"]),
            usd(r["spend_usd"]),
            usd(r["billed_usd"]),
            usd(r["list_usd"]),
            usd(r["unattributed_usd"]),
        )
    parts: list[RenderableType] = [table]

    top = query(wh, "top_engineers", {"limit": 10})
    table = summary_table(
        "Top 10 engineers by token spend",
        caption="per year: annualized run-rate. band base: the band's median base pay. share: per year ÷ band base.",
    )
    for col in ("engineer", "team", "level", "spend", "per year", "band base", "share"):
        money = col in {"spend", "per year", "band base", "share"}
        table.add_column(col, justify="right" if money else "left", no_wrap=col != "team")  # team wraps first
    for r in top.iter_rows(named=True):
        table.add_row(
            shown(f"{r['name']} ({r['engineer_id']})"),
            shown(r["team"]),
            shown(r["level"]),
            usd(r["spend_usd"]),
            usd(r["annualized_usd"], cents=False),
            f"${r['band_base_p50']:,}" if r["band_base_p50"] is not None else "no band",
            share(r["share_of_base"]),
        )
    parts.append(table)

    a = query(wh, "attribution").row(0, named=True)
    parts.append(attribution_line(a))
    data = shown(shown_path(settings.data_dir))
    parts.append(
        f"Inputs: the run moved the demo's files out of {data}/landing/: provider exports into {data}/raw/ "
        f"(byte for byte, listed in {data}/raw/manifest.jsonl), reference CSVs into {data}/reference/ (Parquet)."
    )
    parts.append(f"Warehouse: {shown(shown_path(wh))}. Open it read-only with:")
    return parts


def summary_table(title: str, caption: str | None = None) -> Table:
    return Table(
        title=title,
        caption=caption,
        box=box.SIMPLE_HEAD,
        show_edge=False,
        padding=0,
        title_justify="left",
        caption_justify="left",
    )


def share(value: Decimal | None) -> str:
    """A share as a percentage with one decimal: rounded once, here, from the stored full-precision value."""
    if value is None:
        return "-"
    return f"{(value * 100).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"


def shown_path(path: Path) -> str:
    """A path as a user would type it here: relative to the current directory when it is below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def read_only_command(warehouse: Path, duckdb_cli: Path | None = None) -> str:
    """A shell command that opens the published warehouse read-only from here.

    The DuckDB CLI installed beside this Python (the `duckdb-cli` package, which `make demo` installs) when
    there is one; otherwise this Python with the duckdb module, which tokencomp always has.
    """
    cli = duckdb_cli if duckdb_cli is not None else Path(sys.executable).parent / "duckdb"
    if cli.is_file() and os.access(cli, os.X_OK):
        return f"  {shlex.quote(shown_path(cli))} -readonly {shlex.quote(shown_path(warehouse))}"
    code = f"import duckdb; con = duckdb.connect({json.dumps(shown_path(warehouse))}, read_only=True)"
    return f"  {shlex.quote(shown_path(Path(sys.executable)))} -i -c {shlex.quote(code)}"


def attribution_line(a: dict[str, object]) -> str:
    total = a["spend_usd"] or Decimal(0)

    def pct(part: object) -> str:
        return f"{float(part / total):.2%}" if total else "-"  # type: ignore[operator]

    return (
        f"Attribution: {pct(a['alias_usd'])} by alias, {pct(a['shared_route_usd'])} as shares of shared routes, "
        f"{pct(a['unattributed_usd'])} unattributed ({usd(a['unattributed_usd'])} of {usd(total)}: "  # type: ignore[arg-type]
        f"{usd(a['unknown_route_usd'])} on {a['unknown_routes']} unknown route(s), "  # type: ignore[arg-type]
        f"{usd(a['shared_route_unclaimed_usd'])} of shared routes no member logged, "  # type: ignore[arg-type]
        f"{usd(a['unallocated_usd'])} unallocated billed; see mart.unattributed)"  # type: ignore[arg-type]
    )
