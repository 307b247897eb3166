"""One benchmark case, run in its own process so its peak RSS is its own: prints one JSON line of facts.

`python bench/case.py CASE ARGS…` with CASE one of `copy SRC DEST`, `ingest DATA LANDING`,
`lake DATA START END`, `warehouse DATA`, `baseline FILES_GLOB OUT`, `company DATA ENGINEERS START END`
(writes a company's reference data and lake, bench/company.py) and `nightly DATA LANDING START END`
(one nightly run: ingest the new files, build their days into the lake, build and publish the warehouse).
Run by bench/run.py.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl

from pipelines.config import Settings

LANDED = datetime(2026, 1, 1, tzinfo=UTC)


def _lake_totals(lake: Path) -> dict[str, object]:
    files = sorted(str(p) for p in lake.glob("*/*.parquet"))
    if not files:
        return {"messages": 0, "output_tokens": 0, "list_cost_usd": "0"}
    frame = pl.scan_parquet(files).select(
        pl.len().alias("messages"),
        pl.col("output_tokens").sum(),
        pl.col("list_cost_usd").sum().cast(pl.String),
    )
    return frame.collect().row(0, named=True)


def _warehouse(settings: Settings) -> dict[str, object]:
    """Build and publish the warehouse (and the analyst file: the bench sets a pseudonym key)."""
    from pipelines.services.warehouse import build_and_publish
    from transforms.common import connect

    build_and_publish(settings)
    con = connect(str(settings.warehouse_path), read_only=True)
    facts = con.execute(
        "select (select count(*) from core.fct_usage_daily), (select count(*) from mart.engineer_monthly),"
        " (select sum(spend_usd) from core.fct_spend)"
    ).fetchone()
    rows, engineer_months, spend = facts or (0, 0, 0)
    return {"rows": rows, "engineer_months": engineer_months, "spend_usd": str(spend)}


def main(case: str, args: list[str]) -> dict[str, object]:
    """Run `case` on `args` and return its facts (rows, and totals to check against the baseline)."""
    if case == "copy":
        from pipelines.services.ingest import copy_hashed

        src, dest = Path(args[0]), Path(args[1])
        dest.mkdir(parents=True, exist_ok=True)
        files = sorted(p for p in src.rglob("*") if p.is_file())
        for i, f in enumerate(files):
            copy_hashed(f, dest / f"{i}{''.join(f.suffixes[-2:])}")
        return {"files": len(files)}
    if case == "baseline":
        from transforms.common import connect

        sql = (Path(__file__).parent / "baseline.sql").read_text()
        con = connect()
        con.sql(sql, params={"files": args[0]}).write_parquet(args[1], partition_by=["billing_date"])
        return _lake_totals(Path(args[1]))
    from pipelines.config import load_settings

    settings = load_settings(data_dir=args[0])
    if case == "ingest":
        from pipelines.services.ingest import ingest

        outcomes = ingest(settings, "claude_code_logs", [Path(args[1])], landed_at=LANDED)
        landed = [o for o in outcomes if o.status == "landed"]
        return {
            "files": len(landed),
            "rows": sum(o.parsed for o in landed),
            "rejected": sum(o.rejected for o in landed),
        }
    if case == "lake":
        from pipelines.services.lake import build_window, usage_dir

        report = build_window(settings, date.fromisoformat(args[1]), date.fromisoformat(args[2]))
        return {"rows": report.rows, **_lake_totals(usage_dir(settings))}
    if case == "warehouse":
        return _warehouse(settings)
    if case == "company":
        from company import write_company

        return {"rows": write_company(settings, int(args[1]), date.fromisoformat(args[2]), date.fromisoformat(args[3]))}
    if case == "nightly":
        from pipelines.services.ingest import ingest
        from pipelines.services.lake import build_window

        ingest(settings, "claude_code_logs", [Path(args[1])], landed_at=LANDED)
        report = build_window(settings, date.fromisoformat(args[2]), date.fromisoformat(args[3]))
        return {"lake_rows": report.rows, **_warehouse(settings)}
    raise SystemExit(f"unknown case {case!r}")


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2:]), default=str))
