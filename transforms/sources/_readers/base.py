"""What every reader shares: the validation macros, the `deliveries` table, and turning mapped records
into a `ParseResult` (record ids, latest delivery wins, rejects, per-file statistics).

Every reader follows the same shape: load all deliveries of one source in one batch, find structural
failures (the file is quarantined), let the source's mapping SQL validate and shape each record (a bad
record is rejected and counted, the rest loads), then hash the natural key and keep the latest
delivery. Tables pass between steps by name: each macro takes the tables it reads as arguments, and
the reader names the tables it creates. Nothing here loops over rows in Python.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from importlib.resources import files as package_files

import duckdb
import polars as pl

from transforms.common import (
    ParseResult,
    RawFile,
    UnreadableFile,
    connect,
    file_index,
    finish,
    keep_latest,
    with_record_id,
)
from transforms.sources._registry import SourceSpec


@functools.cache
def reader_sql(name: str) -> str:
    """The text of a reader's SQL file in `transforms/sources/_readers/sql/`."""
    return package_files("transforms.sources._readers").joinpath(f"sql/{name}.sql").read_text()


def open_connection(spec: SourceSpec, reader: str) -> duckdb.DuckDBPyConnection:
    """A parser engine with the shared validation and collection macros, the reader's macros (file
    `reader`.sql) and the source's mapping macros, in that order (a macro may call the ones before it).
    """
    con = connect()
    for name in ("macros", "collect", reader):
        con.execute(reader_sql(name))
    con.execute(spec.mapping_sql())
    return con


# What a delivery without the owner its source's rule needs is missing.
_OWNER_MISSING = {"email_folder": "no engineer email for this delivery"}


def require_owners(spec: SourceSpec, files: Sequence[RawFile]) -> None:
    """Per delivery, not per row: a source whose owner comes from the landing folder needs one."""
    if spec.owner == "none":
        return
    for f in files:
        if not (f.provenance.get("owner") or "").strip():
            raise UnreadableFile(f.name, "provenance.owner", _OWNER_MISSING[spec.owner])


def spec_params(spec: SourceSpec) -> dict[str, str | None]:
    """The spec's facts a mapping macro takes as arguments: `$source`, `$provider`, `$publisher`."""
    return {"source": spec.id, "provider": spec.provider, "publisher": spec.publisher}


def open_deliveries(con: duckdb.DuckDBPyConnection, files: Sequence[RawFile], paths: Sequence[str]) -> None:
    """Create table `deliveries`: one row per delivery, its `delivery` number, the `filename` to read,
    its lineage and owner. Reads no file.
    """
    deliveries = file_index(files, paths).with_row_index("delivery").cast({"delivery": pl.Int64})
    con.register("deliveries_frame", deliveries)
    con.execute("create or replace temp table deliveries as select * from deliveries_frame")
    con.unregister("deliveries_frame")


def lost_delivery(con: duckdb.DuckDBPyConnection, read: str) -> None:
    """Raise `FileNotFoundError` for a delivery with no row in table `read` (a reader bug, not bad data)."""
    lost = con.execute(
        "select filename from deliveries where delivery not in (select delivery from query_table($read))"
        " order by delivery limit 1",
        {"read": read},
    ).fetchone()
    if lost is not None:  # read_blob names files as given; anything else is a bug, not bad data
        raise FileNotFoundError(lost[0])


def collect(con: duckdb.DuckDBPyConnection, spec: SourceSpec, *, records: str, rows: str | None = None) -> ParseResult:
    """Turn table `records` (one row per parsed record, see collect.sql) into the parser's result.

    `rows` names a table of loaded rows with lineage and a unique `delivery_rank` (a source that merges
    records makes its own); by default they are the records that were not rejected. Each row gets
    `record_id` from the spec's natural key, and one row per key survives: the latest delivery in
    manifest order (DESIGN: a corrected re-pull replaces).
    """
    if rows is None:
        loaded = con.sql("select * from loaded_rows($records, 'deliveries')", params={"records": records}).pl()
    else:
        loaded = con.sql("select * from query_table($rows)", params={"rows": rows}).pl()
    key_columns = spec.natural_key
    # only the key columns travel to the hash, numbered to put the ids back on their rows
    keys = loaded.select("source", *key_columns).with_row_index("_row").with_columns(record_id=pl.lit(None, pl.String))
    ids = with_record_id(keys, key_columns).sort("_row")["record_id"]
    loaded = keep_latest(loaded.with_columns(record_id=ids), order="delivery_rank")
    rejects = con.sql("select * from rejected_records($records, 'deliveries')", params={"records": records}).pl()
    stats = con.sql("select * from delivery_stats($records, 'deliveries')", params={"records": records}).pl()
    return finish(loaded, rejects, stats)
