"""The analyst file of an incremental warehouse build: the previous analyst file, updated with the rows that build
recomputed, so its cost follows the new data like the warehouse's.

The rows an incremental warehouse build recomputed (the changed days of the day-grain marts, the months each
month-grain one recomputed) and every mart it rebuilt whole go into a small warehouse file of their own, with
the core columns the analyst file's identities are read from (a mart the build kept as it was contributes no
rows). `warehouse.analyst.build_analyst` pseudonymizes, suppresses and leak-checks that file as it does a full
warehouse; its rows then replace the same rows of a copy of the previous analyst file. Pseudonyms depend on the
key and the value alone, and suppression drops a row for its own figures alone (an aggregate of fewer than k
engineers), so the result equals a full analyst build of the new warehouse.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import shutil
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib.resources import files
from pathlib import Path

import duckdb

from transforms.common import connect
from warehouse.analyst import build_analyst
from warehouse.build import STORAGE_VERSION, BuildReport, run_sql, sql_text
from warehouse.incremental import Grain, covers, grain
from warehouse.models import model_graph

# The core tables the analyst file's identities are read from, as the changes file carries them
IDENTITY_TABLES = frozenset({"dim_engineer", "dim_alias", "fct_spend"})


@cache
def can_update() -> bool:
    """True when the analyst build reads no core table but IDENTITY_TABLES (else only a full analyst build
    sees everything it reads)."""
    package = files("warehouse")
    texts = [package.joinpath("analyst.py").read_text()]
    texts += [f.read_text() for f in package.joinpath("sql/analyst").iterdir() if f.name.endswith(".sql")]
    return {t for text in texts for t in re.findall(r"wh\.core\.([a-z_]+)", text)} <= IDENTITY_TABLES


def key_fingerprint(key: bytes, k: int) -> str:
    """What an analyst file's pseudonyms and suppression depend on, without revealing the key."""
    return hmac.new(key, f"tokencomp analyst file, k={k}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class _Made:
    """How a build made one mart: rebuilt whole (`grain` None), kept as it was, or its grain's rows recomputed
    (for a month grain, those of `months`)."""

    grain: Grain | None
    months: tuple[date, ...] = ()
    kept: bool = False

    def rows(self, con: duckdb.DuckDBPyConnection) -> str:
        """The predicate of the rows the build made anew (over `delta`, which this fills for a month grain)."""
        if self.kept:
            return "false"
        if self.grain is None:
            return "true"
        if self.grain.kind == "month":
            run_sql(con, sql_text("incremental/model_months"), {"months": list(self.months)})
        return covers(self.grain)


def _marts(report: BuildReport) -> dict[str, _Made]:
    """Every published mart and how the build made it."""
    recomputed, kept = set(report.recomputed), set(report.kept)
    out = {}
    for m in model_graph():
        if m.published and m.creates.startswith("mart."):
            if m.name in recomputed:
                made = _Made(grain(sql_text(m.name)), report.months.get(m.name, ()))
            else:
                made = _Made(None, kept=m.name in kept)
            out[m.creates.split(".", 1)[1]] = made
    return out


def update_analyst(
    report: BuildReport, warehouse_file: Path, previous: Path, build_path: Path, key: bytes, k: int
) -> None:
    """Write at `build_path` the analyst file of `warehouse_file` (an incremental build described by `report`)
    from the `previous` published analyst file and the rows the build recomputed."""
    scratch = build_path.with_name(build_path.name + ".delta")
    changes = scratch.with_name(scratch.name + ".warehouse.duckdb")
    for stale in (build_path, scratch, changes):
        for path in (stale, stale.with_name(stale.name + ".wal")):
            path.unlink(missing_ok=True)
    marts = _marts(report)
    params = {"days": list(report.plan.days)}
    con = connect()
    try:
        con.execute("attach ? as wh (read_only)", [str(warehouse_file)])
        con.execute("attach ? as d (storage_version ?)", [str(changes), STORAGE_VERSION])
        con.execute("attach ':memory:' as delta")
        run_sql(con, sql_text("incremental/changed"), params)
        con.execute("create schema d.core")
        con.execute("create schema d.mart")
        for table in ("dim_engineer", "dim_alias"):
            con.execute(f"create table d.core.{table} as select * from wh.core.{table}")
        # the analyst file's identities read the principals of core.fct_spend that are emails
        con.execute(
            "create table d.core.fct_spend as select distinct principal_id from wh.core.fct_spend "
            "where contains(principal_id, '@')"
        )
        for table, made in marts.items():
            con.execute(f"create table d.mart.{table} as select * from wh.mart.{table} where {made.rows(con)}")
        con.execute("checkpoint d")
        con.execute("detach d")
    finally:
        con.close()
    build_analyst(changes, scratch, key, k)
    shutil.copyfile(previous, build_path)
    con = connect()
    try:
        con.execute("attach ? as an (storage_version ?)", [str(build_path), STORAGE_VERSION])
        con.execute("attach ? as da (read_only)", [str(scratch)])
        con.execute("attach ':memory:' as delta")
        run_sql(con, sql_text("incremental/changed"), params)
        for table, made in marts.items():
            where = made.rows(con)
            con.execute(f"delete from an.mart.{table} where {where}").fetchall()
            con.execute(f"insert into an.mart.{table} by name select * from da.mart.{table}").fetchall()
        con.execute("checkpoint an")
        con.execute("detach an")
    finally:
        con.close()
    for stale in (scratch, changes):
        for path in (stale, stale.with_name(stale.name + ".wal")):
            path.unlink(missing_ok=True)
