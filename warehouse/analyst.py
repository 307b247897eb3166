"""The analyst file (data/analyst.duckdb): the warehouse's marts with keyed pseudonyms instead of people.

Every value that names a person (engineer id, display name, email, a provider principal that is an email) is
replaced, in every text column of every mart, by an HMAC-SHA256 pseudonym under a key the caller supplies
(from the environment, never from config). The same person gets the same pseudonym in every table and every
build made with the same key, so analysts can join and trend; without the key nobody can map one back. A cell
that is an identity becomes its pseudonym; a JSON object (mart.focus.Tags) keeps its members in their order with
each top-level string value that is an identity replaced the same way. The rewrite of a cell depends on its
value, the key and the identities alone, never on other rows, so a build over a file of changed rows (with the
same core identity tables) gives those rows exactly as a full build does. Before publishing, a leak check refuses
any text cell that still holds a name or an email anywhere, or an engineer id as a word (no letter, digit or
underscore on either side: inside JSON, a label or a sentence). Team and level aggregates of fewer than k
engineers are left out. The tables keep their documented COMMENTs; the core schema (raw identities) is not in
the file. The file is built aside and published with `os.replace`, in the same storage version as the
warehouse, so DuckDB >= 1.4 opens it read-only.
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
    stale = (build_path, build_path.with_name(build_path.name + ".wal"))
    for path in stale:
        path.unlink(missing_ok=True)
    con = connect()  # within the configured [duckdb] memory limit, threads and spill folder
    try:
        con.execute("attach ? as wh (read_only)", [str(warehouse_file)])
        con.execute("attach ? as an (storage_version ?)", [str(build_path), STORAGE_VERSION])
        identities = con.sql(sql_text("analyst/identities")).pl()
        # one HMAC per person-identifying value: roster-sized, not data-sized
        pseudonyms = identities.with_columns(
            pl.struct("kind", "value")
            .map_elements(lambda r: pseudonym(key, r["kind"], r["value"]), return_dtype=pl.String)
            .alias("pseudonym")
        ).select("value", "pseudonym")
        con.register("identities", identities)
        con.register("pseudonyms", pseudonyms)
        con.execute("copy from database wh to an (schema)")  # empty tables, with their comments
        con.execute("drop schema an.core cascade")
        columns: dict[str, list[tuple[str, bool]]] = {}
        for table, column, is_text in con.sql(sql_text("analyst/mart_columns")).fetchall():
            columns.setdefault(table, []).append((column, is_text))
        tables = list(columns)
        # a cell's pseudonym depends on its value alone: looked up once per distinct value, joined per column
        _collect_cells(con, "wh", columns)
        con.execute(sql_text("analyst/cell_pseudonyms"))
        [(ambiguous,)] = con.execute("select count(*) from cell_pseudonyms where identities > 1").fetchall()
        if ambiguous:
            raise AnalystLeakError(f"analyst file not published: {ambiguous} value(s) name two people at once")
        rewritten = set(con.sql(sql_text("analyst/pseudonymized_columns")).fetchall())
        for table, cols in columns.items():
            con.execute(_pseudonymized_insert(table, [c for c, text in cols if text and (table, c) in rewritten]))
        before = _row_count(con, tables)
        run_sql(con, sql_text("analyst/suppress"), {"k": k})
        suppressed = before - _row_count(con, tables)
        _check_no_leaks(con, columns)
        counts = {f"mart.{table}": _row_count(con, [table]) for table in tables}
        con.execute("checkpoint an")
        con.execute("detach an")
    except AnalystLeakError:
        con.close()
        for path in stale:  # the refused copy is not left on disk either
            path.unlink(missing_ok=True)
        raise
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
    return sum(int(con.execute(f"select count(*) from an.mart.{_q(t)}").fetchall()[0][0]) for t in tables)


def _collect_cells(con: duckdb.DuckDBPyConnection, database: str, columns: dict[str, list[tuple[str, bool]]]) -> None:
    """Fill the temp table `column_cells` with each mart text column's distinct cells and their row counts."""
    con.execute(
        "create or replace temp table column_cells (table_name varchar, column_name varchar, cell varchar, n bigint)"
    )
    for table, cols in columns.items():
        for column, text in cols:
            if text:
                source = f"select {_q(column)} as cell from {database}.mart.{_q(table)}"
                con.execute(f"create or replace temp view column_values as {source}")
                run_sql(con, sql_text("analyst/column_cells"), {"table_name": table, "column_name": column})


def _pseudonymized_insert(table: str, rewrite: list[str]) -> str:
    """The statement copying one mart into the analyst file, each of the `rewrite` columns through its cells'
    pseudonyms (a left join on distinct values: a cell that names nobody keeps its value), rows in the
    warehouse's order."""
    joins = "".join(f" left join cell_pseudonyms as p{i} on p{i}.cell = t.{_q(c)}" for i, c in enumerate(rewrite))
    replaced = ", ".join(f"coalesce(p{i}.pseudonym, t.{_q(c)}) as {_q(c)}" for i, c in enumerate(rewrite))
    select = f"t.* replace ({replaced})" if rewrite else "t.*"
    # in the warehouse's row order (a hash join does not keep it)
    return (
        f"insert into an.mart.{_q(table)} by name select {select} from wh.mart.{_q(table)} as t{joins} order by t.rowid"
    )


def _check_no_leaks(con: duckdb.DuckDBPyConnection, columns: dict[str, list[tuple[str, bool]]]) -> None:
    """Refuse to publish when any text cell of the analyst file still holds an engineer id, a name or an email."""
    _collect_cells(con, "an", columns)
    leaks = {(t, c): n for t, c, n in con.sql(sql_text("analyst/leaks")).fetchall() if n}
    for table, cols in columns.items():
        for column, _ in cols:
            cells = leaks.get((table, column))
            if cells:
                raise AnalystLeakError(
                    f"analyst file not published: mart.{table}.{column} still names a person in {cells} cell(s)"
                )
