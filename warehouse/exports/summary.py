"""The visual month-end report: six charts over the warehouse, as one self-contained HTML file or as PNGs.

What finance and engineering leads look at first: spend over time by provider, token spend as a share of
base pay across engineers (with the 50% and 100% lines), the comp mix per level, the top spenders (under
the privacy setting), chargeback by team and billed against list cost. Charts are drawn with matplotlib's
Agg backend (no browser, no network, no system fonts: DejaVu ships with matplotlib) and embedded in the
HTML as PNG data URIs. Each chart has a table of the same numbers beside it, read from the same query and
rounded once, at display (cents by largest remainder where the rows add up to a total shown).

Person-level charts use the usage month (reporting time zone, as mart.engineer_monthly); provider charts
use UTC billing days (as mart.reconciliation and the FOCUS export). docs/report.md says which query feeds
which chart.
"""

from __future__ import annotations

import base64
import html
import io
import os
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import polars as pl
from matplotlib.figure import Figure

from transforms.money import install_money_macros
from warehouse.analyst import pseudonym as analyst_pseudonym
from warehouse.build import sql_text

# Leaderboard privacy: `pseudonyms` (keyed with $TOKENCOMP_PSEUDONYM_KEY; without the key nothing is shown),
# `hidden` (no names, no chart), `names` (the finance view: names and ids).
LEADERBOARD_MODES: tuple[str, ...] = ("pseudonyms", "hidden", "names")
PSEUDONYM_KEY_ENV = "TOKENCOMP_PSEUDONYM_KEY"
TOP_N = 10
CENT = Decimal("0.01")
COLOURS: tuple[str, ...] = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")
WIDTH_IN, HEIGHT_IN, DPI = 8.0, 4.0, 100


@dataclass
class Chart:
    """One chart of the report: its file stem, title, figure, and the table of the numbers it shows."""

    name: str
    title: str
    figure: Figure
    headers: tuple[str, ...]
    rows: list[tuple[str, ...]]
    note: str = ""


def _month_bounds(month: date) -> tuple[date, date]:
    first = month.replace(day=1)
    nxt = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return first, nxt


def _query(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, object]) -> pl.DataFrame:
    return con.sql(sql_text(f"reports/{name}"), params=params).pl()


def usd(value: Decimal, places: Decimal = CENT) -> str:
    """Dollars for display, rounded once (half up) to cents, or to whole dollars with places=Decimal(1)."""
    rounded = value.quantize(places, rounding=ROUND_HALF_UP)
    return f"{'-' if rounded < 0 else ''}${abs(rounded):,}"


def percent(share: Decimal | None) -> str:
    """A share (1.0 = 100%) as a percentage with one decimal."""
    return "n/a" if share is None else f"{(share * 100).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"


def cents_largest_remainder(values: Sequence[Decimal]) -> list[Decimal]:
    """Round each value to cents so that they sum to their total rounded to cents (largest remainder)."""
    total = sum(values, Decimal(0)).quantize(CENT, rounding=ROUND_HALF_UP)
    floors = [v.quantize(CENT, rounding=ROUND_FLOOR) for v in values]
    # the floors' fractions sum to less than n cents, and the total rounds to within half a cent: 0 <= leftover < n
    leftover = int((total - sum(floors, Decimal(0))) / CENT)
    order = sorted(range(len(values)), key=lambda i: (-(values[i] - floors[i]), i))
    for i in order[:leftover]:
        floors[i] += CENT
    return floors


def _figure() -> tuple[Figure, object]:
    fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, layout="constrained")
    return fig, fig.add_subplot()


def _no_data(ax: object, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=12, color="#555")  # type: ignore[attr-defined]
    ax.set_axis_off()  # type: ignore[attr-defined]


def _spend_by_provider(con: duckdb.DuckDBPyConnection, first: date, nxt: date) -> Chart:
    frame = _query(con, "summary_spend_by_provider", {"month_end": nxt})
    fig, ax = _figure()
    rows: list[tuple[str, ...]] = []
    if frame.height == 0:
        _no_data(ax, "no spend yet")
    else:
        for i, provider in enumerate(sorted(frame["provider"].unique())):
            part = frame.filter(pl.col("provider") == provider).sort("billing_date")
            ys = [float(v) for v in part["spend_usd"]]
            ax.plot(part["billing_date"].to_list(), ys, label=provider, color=COLOURS[i % len(COLOURS)])  # type: ignore[attr-defined]
        ax.axvspan(first, nxt, color="#eee", zorder=0)  # type: ignore[attr-defined]
        ax.set_ylabel("USD per UTC billing day")  # type: ignore[attr-defined]
        ax.legend()  # type: ignore[attr-defined]
        ax.grid(alpha=0.3)  # type: ignore[attr-defined]
        monthly = (
            frame.with_columns(pl.col("billing_date").dt.truncate("1mo").alias("month"))
            .group_by("month", "provider")
            .agg(pl.col("spend_usd").sum())
            .sort("month", "provider")
        )
        for (month,), part in monthly.group_by("month", maintain_order=True):
            cents = cents_largest_remainder(part["spend_usd"].to_list())
            rows += [(f"{month:%Y-%m}", p, usd(c)) for p, c in zip(part["provider"], cents, strict=True)]
            rows.append((f"{month:%Y-%m}", "all providers", usd(sum(cents, Decimal(0)))))
    fig.autofmt_xdate()
    note = "Daily spend from core.fct_spend; the shaded band is the report month."
    return Chart("spend_by_provider", "Spend over time, by provider", fig, ("month", "provider", "spend"), rows, note)


def _share_of_base(con: duckdb.DuckDBPyConnection, first: date) -> Chart:
    frame = _query(con, "summary_share_of_base", {"month": first})
    shares: list[Decimal] = frame["spend_share_of_base"].to_list()
    fig, ax = _figure()
    rows: list[tuple[str, ...]] = []
    if not shares:
        _no_data(ax, "no engineer with a pay band this month")
    else:
        pct = [float(s) * 100 for s in shares]
        ax.hist(pct, bins=min(30, max(5, len(pct) // 3)), color=COLOURS[0])  # type: ignore[attr-defined]
        for line, colour in ((50, "#ff7f0e"), (100, "#d62728")):
            ax.axvline(line, color=colour, linestyle="--", label=f"{line}% of base")  # type: ignore[attr-defined]
        ax.set_xlabel("annualized token spend as % of the band's median base")  # type: ignore[attr-defined]
        ax.set_ylabel("engineers")  # type: ignore[attr-defined]
        ax.legend()  # type: ignore[attr-defined]
        rows = [
            ("engineers with a band", str(len(shares))),
            ("median share of base", percent(statistics.median(shares))),
            ("at or above 50%", str(sum(s >= Decimal("0.5") for s in shares))),
            ("at or above 100%", str(sum(s >= 1 for s in shares))),
        ]
    note = "From mart.engineer_monthly.spend_share_of_base: the month's spend per active day times 365, over base."
    return Chart("share_of_base", "Token spend as a share of base pay", fig, ("measure", "value"), rows, note)


def _comp_mix(con: duckdb.DuckDBPyConnection, first: date) -> Chart:
    frame = _query(con, "summary_comp_mix", {"month": first})
    parts = (("base_usd", "base"), ("stock_usd", "stock"), ("bonus_usd", "bonus"), ("tokens_usd", "tokens"))
    fig, ax = _figure()
    rows: list[tuple[str, ...]] = []
    if frame.height == 0:
        _no_data(ax, "no engineer with a pay band this month")
    else:
        bottom = [0.0] * frame.height
        for colour, (column, label) in zip(COLOURS, parts, strict=False):
            heights = [float(v) for v in frame[column]]
            ax.bar(frame["level"].to_list(), heights, bottom=bottom, label=label, color=colour)  # type: ignore[attr-defined]
            bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
        ax.set_ylabel("USD per year (mean of the level)")  # type: ignore[attr-defined]
        ax.legend()  # type: ignore[attr-defined]
        for r in frame.iter_rows(named=True):
            rows.append((r["level"], str(r["engineers"]), *(usd(r[c], Decimal(1)) for c, _ in parts)))
    note = "Band medians (core.dim_salary_band) and annualized token spend, averaged over the level's engineers."
    headers = ("level", "engineers", "base", "stock", "bonus", "tokens")
    return Chart("comp_mix", "Comp mix per level: base, stock, bonus and tokens", fig, headers, rows, note)


def pseudonym(engineer_id: str, key: str) -> str:
    """The engineer's pseudonym under `key`: the same one `data/analyst.duckdb` gives them (warehouse.analyst)."""
    return analyst_pseudonym(key.encode(), "engineer", engineer_id)


def _leaderboard(con: duckdb.DuckDBPyConnection, first: date, mode: str) -> Chart:
    title = f"Top {TOP_N} engineers by token spend"
    key = os.environ.get(PSEUDONYM_KEY_ENV, "")
    fig, ax = _figure()
    if mode == "hidden" or (mode == "pseudonyms" and not key):
        why = "privacy setting: hidden" if mode == "hidden" else f"no pseudonym key (${PSEUDONYM_KEY_ENV}) is set"
        _no_data(ax, f"leaderboard not shown ({why})")
        return Chart("leaderboard", title, fig, ("rank", "engineer", "level", "spend", "share of base"), [], why)
    frame = _query(con, "summary_leaderboard", {"month": first, "limit": TOP_N})
    rows: list[tuple[str, ...]] = []
    if frame.height == 0:
        _no_data(ax, "no token spend this month")
    else:
        who = [
            pseudonym(r["engineer_id"], key) if mode == "pseudonyms" else f"{r['name']} ({r['engineer_id']})"
            for r in frame.iter_rows(named=True)
        ]
        ax.barh(who[::-1], [float(v) for v in frame["spend_usd"]][::-1], color=COLOURS[0])  # type: ignore[attr-defined]
        ax.set_xlabel("USD in the month")  # type: ignore[attr-defined]
        for rank, (name, r) in enumerate(zip(who, frame.iter_rows(named=True), strict=True), start=1):
            rows.append((str(rank), name, r["level"] or "", usd(r["spend_usd"]), percent(r["spend_share_of_base"])))
    note = (
        "Pseudonyms are keyed with $TOKENCOMP_PSEUDONYM_KEY; no name, id or team is shown."
        if mode == "pseudonyms"
        else ""
    )
    return Chart("leaderboard", title, fig, ("rank", "engineer", "level", "spend", "share of base"), rows, note)


def _chargeback(con: duckdb.DuckDBPyConnection, first: date) -> Chart:
    frame = _query(con, "summary_chargeback", {"month": first})
    fig, ax = _figure()
    rows: list[tuple[str, ...]] = []
    if frame.height == 0:
        _no_data(ax, "no spend this month")
    else:
        ax.barh(frame["team"].to_list()[::-1], [float(v) for v in frame["spend_usd"]][::-1], color=COLOURS[2])  # type: ignore[attr-defined]
        ax.set_xlabel("USD in the month")  # type: ignore[attr-defined]
        cents = cents_largest_remainder(frame["spend_usd"].to_list())
        rows = [(t, usd(c)) for t, c in zip(frame["team"], cents, strict=True)]
        rows.append(("total", usd(sum(cents, Decimal(0)))))
    note = "Engineers' spend by their end-of-month team (mart.engineer_monthly) plus mart.unattributed."
    return Chart("chargeback", "Chargeback by team", fig, ("team", "spend"), rows, note)


def _billed_vs_list(con: duckdb.DuckDBPyConnection, first: date, nxt: date) -> Chart:
    frame = _query(con, "summary_billed_vs_list", {"month": first, "month_end": nxt})
    fig, ax = _figure()
    rows: list[tuple[str, ...]] = []
    if frame.height == 0:
        _no_data(ax, "no bill this month")
    else:
        x = list(range(frame.height))
        ax.bar([i - 0.2 for i in x], [float(v) for v in frame["billed_usd"]], 0.4, label="billed", color=COLOURS[0])  # type: ignore[attr-defined]
        ax.bar([i + 0.2 for i in x], [float(v) for v in frame["list_usd"]], 0.4, label="list price", color=COLOURS[1])  # type: ignore[attr-defined]
        ax.set_xticks(x, frame["provider"].to_list())  # type: ignore[attr-defined]
        ax.set_ylabel("USD in the billing month")  # type: ignore[attr-defined]
        ax.legend()  # type: ignore[attr-defined]
        for r in frame.iter_rows(named=True):
            diff = r["billed_usd"] - r["list_usd"]
            share = None if r["list_usd"] == 0 else diff / r["list_usd"]
            rows.append((r["provider"], usd(r["billed_usd"]), usd(r["list_usd"]), usd(diff), percent(share)))
    note = "mart.reconciliation: what the billed source says against the metered tokens at list price."
    headers = ("provider", "billed", "list price", "billed - list", "vs list")
    return Chart("billed_vs_list", "Billed against list cost", fig, headers, rows, note)


def charts(con: duckdb.DuckDBPyConnection, month: date, leaderboard: str = "pseudonyms") -> list[Chart]:
    """The report's six charts for the month holding `month`, in reading order."""
    if leaderboard not in LEADERBOARD_MODES:
        raise ValueError(f"leaderboard must be one of {', '.join(LEADERBOARD_MODES)}, not {leaderboard!r}")
    install_money_macros(con)
    first, nxt = _month_bounds(month)
    return [
        _spend_by_provider(con, first, nxt),
        _share_of_base(con, first),
        _comp_mix(con, first),
        _leaderboard(con, first, leaderboard),
        _chargeback(con, first),
        _billed_vs_list(con, first, nxt),
    ]


def png_bytes(chart: Chart) -> bytes:
    """The chart as PNG bytes, without the software stamp, so the same data gives the same bytes."""
    buffer = io.BytesIO()
    chart.figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def write_png(
    con: duckdb.DuckDBPyConnection, month: date, out_dir: Path, leaderboard: str = "pseudonyms"
) -> list[Path]:
    """Write each chart of the month as `<out_dir>/<name>.png` (the folder is created); return the files."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for chart in charts(con, month, leaderboard):
        path = out_dir / f"{chart.name}.png"
        path.write_bytes(png_bytes(chart))
        written.append(path)
    return written


def _table(chart: Chart) -> str:
    if not chart.rows:
        return ""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in chart.headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in chart.rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


_STYLE = (
    "body{font-family:DejaVu Sans,Arial,sans-serif;margin:24px auto;max-width:1100px;color:#222}"
    "section{display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start;margin:0 0 32px}"
    "img{border:1px solid #ddd}table{border-collapse:collapse;font-size:13px}"
    "td,th{border:1px solid #ccc;padding:3px 8px}td{text-align:right}td:first-child{text-align:left}"
    "h2{width:100%;margin:8px 0}p.note{width:100%;color:#555;font-size:13px;margin:0}"
)


def write_html(con: duckdb.DuckDBPyConnection, month: date, out: Path, leaderboard: str = "pseudonyms") -> Path:
    """Write the month's visual report as one self-contained HTML file (charts inline); return its path."""
    first, nxt = _month_bounds(month)
    totals = _query(con, "summary_totals", {"month": first, "month_end": nxt}).row(0, named=True)
    sections = []
    for chart in charts(con, month, leaderboard):
        data = base64.b64encode(png_bytes(chart)).decode()
        w, h = int(WIDTH_IN * DPI), int(HEIGHT_IN * DPI)
        sections.append(
            f'<section id="{chart.name}"><h2>{html.escape(chart.title)}</h2>'
            f'<img class="chart" alt="{html.escape(chart.title)}" width="{w}" height="{h}" '
            f'src="data:image/png;base64,{data}">{_table(chart)}'
            f'<p class="note">{html.escape(chart.note)}</p></section>'
        )
    page = (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>tokencomp {first:%Y-%m}</title>'
        f"<style>{_STYLE}</style></head><body><h1>AI spend, {first:%B %Y}</h1>"
        f"<p>Spend in the month: <b>{usd(totals['usage_month_usd'])}</b> by usage day (reporting time zone; "
        f"the person and team charts), <b>{usd(totals['billing_month_usd'])}</b> by UTC billing day (the "
        f"provider charts and the FOCUS export).</p>{''.join(sections)}</body></html>\n"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out
