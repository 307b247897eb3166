"""A large company's lake and reference data written directly (no raw files), for the warehouse cases.

`write_company(settings, engineers, start, end)` stores a roster of `engineers` engineers (100 per team,
5 levels, 3 offices), one API key alias each, one workspace per team mapped to its cost centre, and lake
partitions for every day in [start, end]: the Anthropic usage rows bench/company.sql generates, priced
and allocated by the pipeline's own `lake_rows` and written by its own `write_days`, a month at a time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl

from pipelines.config import Settings
from pipelines.services.lake import LakeReport, Prices, lake_rows, write_days
from pipelines.services.reference import KINDS
from pipelines.services.storage import replace_parquet
from transforms.common import connect
from transforms.schema import conform

HERE = Path(__file__).resolve().parent
LANDED = datetime(2026, 1, 1, tzinfo=UTC)
HIRED = date(2020, 1, 1)
LEVELS = ("L3", "L4", "L5", "L6", "L7")
OFFICES = ("San Francisco, CA", "New York, NY", "London, England, United Kingdom")


def _store(settings: Settings, kind: str, frame: pl.DataFrame) -> None:
    replace_parquet(frame.select(KINDS[kind].names()).cast(dict(KINDS[kind])), settings.reference / f"{kind}.parquet")  # type: ignore[arg-type]


def write_reference(settings: Settings, engineers: int) -> None:
    """Roster, API key aliases and workspace scopes of a company of `engineers` engineers (100 per team)."""
    teams = max(1, engineers // 100)
    ids = range(engineers)
    people = pl.DataFrame(
        {
            "engineer_id": [f"eng{n:06d}" for n in ids],
            "email": [f"dev{n:05d}@example.com" for n in ids],
            "name": [f"Engineer {n}" for n in ids],
            "team": [f"team{n % teams:04d}" for n in ids],
            "cost_centre": [f"cc-team{n % teams:04d}" for n in ids],
            "level": [LEVELS[n % len(LEVELS)] for n in ids],
            "title": ["Software Engineer"] * engineers,
            "location": [OFFICES[n % len(OFFICES)] for n in ids],
            "valid_from": [HIRED] * engineers,
            "valid_to": [None] * engineers,
        },
        schema_overrides={"valid_to": pl.Date},
    )
    _store(settings, "roster", people)
    aliases = people.select(
        "engineer_id",
        kind=pl.lit("api_key_id"),
        value=pl.Series([f"apikey_{n:06d}" for n in ids]),
        valid_from=pl.lit(HIRED),
        valid_to=pl.lit(None, pl.Date),
    )
    _store(settings, "aliases", aliases)
    workspaces = pl.DataFrame(
        {
            "provider": ["anthropic"] * teams,
            "scope_kind": ["workspace"] * teams,
            "scope_id": [f"wrkspc_team{t:04d}" for t in range(teams)],
            "name": [f"team{t:04d}" for t in range(teams)],
            "cost_centre": [f"cc-team{t:04d}" for t in range(teams)],
            "valid_from": [HIRED] * teams,
            "valid_to": [None] * teams,
        },
        schema_overrides={"valid_to": pl.Date},
    )
    _store(settings, "scopes", workspaces)


def write_lake(settings: Settings, engineers: int, start: date, end: date) -> int:
    """Lake partitions for [start, end], a month at a time; returns the rows written."""
    sql = (HERE / "company.sql").read_text()
    prices = Prices.read(settings)
    report = LakeReport(start, end)
    chunk = start
    teams = max(1, engineers // 100)
    while chunk <= end:
        last = min(end, (chunk.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1))
        params = {"engineers": engineers, "teams": teams, "start": chunk, "end": last, "landed_at": LANDED}
        rows = conform(connect().sql(sql, params=params).pl()).collect()
        write_days(settings, lake_rows(rows, settings, prices), chunk, last, report)
        chunk = last + timedelta(days=1)
    return report.rows


def write_company(settings: Settings, engineers: int, start: date, end: date) -> int:
    """Reference data and lake of the company; returns the lake rows written."""
    write_reference(settings, engineers)
    return write_lake(settings, engineers, start, end)
