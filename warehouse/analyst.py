"""The analyst file (data/analyst.duckdb): the warehouse's marts with keyed pseudonyms instead of people.

Every value that names a person (engineer id, display name, email, a provider principal that is an email) is
replaced, in every text column of every mart, by an HMAC-SHA256 pseudonym under a key the caller supplies
(from the environment, never from config). The same person gets the same pseudonym in every table and every
build made with the same key, so analysts can join and trend; without the key nobody can map one back. Team
and level aggregates of fewer than k engineers are left out. The tables keep their documented COMMENTs; the
core schema (raw identities) is not in the file. The file is built aside and published with `os.replace`, in
the same storage version as the warehouse, so DuckDB >= 1.4 opens it read-only.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from transforms.common import connect
from warehouse.build import STORAGE_VERSION, BlockingCheckError, run_sql, sql_text

PREFIX = {"engineer": "eng_", "name": "person_", "email": "email_"}


class AnalystLeakError(BlockingCheckError):
    """A cell of the analyst file would still name a person: nothing is published."""

    check = "analyst_pseudonyms"


@dataclass(frozen=True)
class AnalystReport:
    """What went into the analyst file: rows per mart, people pseudonymized, aggregate rows suppressed."""

    tables: dict[str, int]
    pseudonymized: int
    suppressed: int


def pseudonym(key: bytes, kind: str, value: str) -> str:
    """The keyed pseudonym of one identifying value: a kind prefix and 16 hex digits of HMAC-SHA256."""
    digest = hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
    return PREFIX[kind] + digest[:16]


def build_analyst(warehouse_file: Path, build_path: Path, key: bytes, k: int) -> AnalystReport:
    """Write the pseudonymous copy of `warehouse_file`'s marts to `build_path` (not yet published)."""
    build_path.parent.mkdir(parents=True, exist_ok=True)
    for stale in (build_path, build_path.with_name(build_path.name + ".wal")):
        stale.unlink(missing_ok=True)
    con = connect()  # within the configured [duckdb] memory limit, threads and spill folder
    try:
        con.execute("attach ? as wh (read_only)", [str(warehouse_file)])
        con.execute("attach ? as an (storage_version ?)", [str(build_path), STORAGE_VERSION])
        con.execute("attach ':memory:' as stage")
        identities = con.sql(sql_text("analyst/identities")).pl()
        # one HMAC per person-identifying value: roster-sized, not data-sized
        pseudonyms = identities.with_columns(
            pl.struct("kind", "value")
            .map_elements(lambda r: pseudonym(key, r["kind"], r["value"]), return_dtype=pl.String)
            .alias("pseudonym")
        ).select("value", "pseudonym")
        con.register("identities", identities)
        con.register("pseudonyms", pseudonyms)
        con.execute(sql_text("analyst/pseudonym"))
        con.execute("copy from database wh to an (schema)")  # empty tables, with their comments
        con.execute("drop schema an.core cascade")
        con.execute("create schema stage.mart")
        columns: dict[str, list[tuple[str, bool]]] = {}
        for table, column, is_text in con.sql(sql_text("analyst/mart_columns")).fetchall():
            columns.setdefault(table, []).append((column, is_text))
        tables = list(columns)
        for table, cols in columns.items():
            select = ", ".join(f"pseudonym({_q(c)}) as {_q(c)}" if text else _q(c) for c, text in cols)
            con.execute(f"create table stage.mart.{_q(table)} as select {select} from wh.mart.{_q(table)}")
        before = _row_count(con, tables)
        run_sql(con, sql_text("analyst/suppress"), {"k": k})
        suppressed = before - _row_count(con, tables)
        _check_no_leaks(con, columns)
        counts: dict[str, int] = {}
        for table in tables:
            con.execute(f"insert into an.mart.{_q(table)} by name select * from stage.mart.{_q(table)}")
            counts[f"mart.{table}"] = int(con.execute(f"select count(*) from an.mart.{_q(table)}").fetchone()[0])  # type: ignore[index]
        con.execute("checkpoint an")
        con.execute("detach an")
    finally:
        con.close()
    return AnalystReport(tables=counts, pseudonymized=pseudonyms.height, suppressed=suppressed)


def publish_analyst(build_path: Path, target: Path) -> None:
    """Atomically replace the published analyst file with the fresh build. Its permissions are the process's
    (the CLI makes data owner-only): sharing it with analysts is the deployment's choice."""
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(build_path, target)


def _q(identifier: str) -> str:
    """A catalog identifier, quoted for SQL."""
    return '"' + identifier.replace('"', '""') + '"'


def _row_count(con: duckdb.DuckDBPyConnection, tables: list[str]) -> int:
    return sum(int(con.execute(f"select count(*) from stage.mart.{_q(t)}").fetchone()[0]) for t in tables)  # type: ignore[index]


def _check_no_leaks(con: duckdb.DuckDBPyConnection, columns: dict[str, list[tuple[str, bool]]]) -> None:
    """Refuse to publish when any text cell of the staged marts still holds an engineer id, a name or an email."""
    for table, cols in columns.items():
        for column, text in cols:
            if not text:
                continue
            con.execute(
                f"create or replace temp view stage_cells as select {_q(column)} as cell from stage.mart.{_q(table)}"
            )
            (cells,) = con.execute(sql_text("analyst/leaks")).fetchone()  # type: ignore[misc]
            if cells:
                raise AnalystLeakError(
                    f"analyst file not published: mart.{table}.{column} still names a person in {cells} cell(s)"
                )
