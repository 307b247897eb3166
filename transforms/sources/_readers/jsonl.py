"""The JSONL reader: one JSON document per line; a bad line is rejected with its number and field.

The source's mapping SQL defines three macros over the reader's `jsonl_lines(deliveries, paths)`:
`source_lines(deliveries, paths)` (one row per line: `delivery`, `line`, `counted`, `not_utf8`,
`reject_field`, `reject_reason`, `is_usage` and what the line carries), `source_rows(lines,
deliveries, source, provider, publisher)` (the canonical rows the lines merge into, with lineage and
`delivery_rank`) and `source_checked(lines, rows)` (one record per counted line, see collect.sql).

Memory stays bounded however many files there are. Files are read in batches of at most
`batch_bytes()` of text; each file keeps only its usage lines and rejects (slim columns, no text, no
owner), in one Parquet file per batch (`<folder>/part-<batch id>.parquet`, a `raw_sha256` column); the
marks index `<folder>/marks.sqlite` maps each sha256 to its line count, its text size and the part its
lines are in (one indexed lookup per read, however long the history; a file per delivery would cost an
inode per delivery). The folder is the
`parsed_lines` one when the pipeline set it (ingest writes it, the lake build reads it: each file is
parsed once), else scratch. The merge then runs bucket by bucket: every line of one natural key hashes
to the same bucket, so merging each bucket alone equals merging everything at once (every file and
delivery, sidechain replays and sessions across midnight included), while DuckDB holds one bucket's
keys at a time; with several buckets one pass splits the kept lines into a scratch folder per bucket
first. Under `rows_on_disk` (the lake build) the merged rows stay in Parquet files ordered by billing
date and record id, so a long window is never in memory at once.
"""

from __future__ import annotations

import hashlib
import math
import os
import sqlite3
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import closing
from pathlib import Path

import duckdb
import polars as pl

from transforms.common import (
    ParseResult,
    RawFile,
    UnreadableFile,
    engine_limits,
    file_index,
    finish,
    parsed_lines_folder,
    plain_text_paths,
    rows_on_disk_folder,
    scratch_dir,
)
from transforms.schema import USAGE_SCHEMA
from transforms.sources._readers.base import open_connection, reader_sql, require_owners, spec_params
from transforms.sources._registry import SourceSpec

# Text per batch and per merge bucket, at most; a smaller DuckDB memory limit lowers both.
BATCH_BYTES = 256 * 2**20
BUCKET_BYTES = 512 * 2**20
# A compressed delivery is weighed at this many times its size (real logs inflate 10-30 times).
_COMPRESSED_WEIGHT = 10
# Merged rows per Parquet row group: a group of days is read back without reading the rest.
ROW_GROUP_ROWS = 16_384
# Lines buffered by the one pass that splits the staged lines into buckets, over all buckets (per thread).
SPLIT_BUFFER_ROWS = 512 * 1024
# Scratch Parquet (buckets, merged rows) is written once and read once: fast to write beats small.
SCRATCH_COMPRESSION = "lz4"
# How the staged lines are laid out (part in the stage folder's version): a new layout never reads an old one.
STAGE_LAYOUT = "parts+marks.sqlite"
MARKS_INDEX = "marks.sqlite"
# A writer holds the index for one batch's insert; a reader waits this long for it, at most.
MARKS_TIMEOUT_S = 60.0


def batch_bytes() -> int:
    """Text read into one batch, at most (a single larger file is a batch of its own)."""
    return max(1, min(BATCH_BYTES, engine_limits().memory_limit // 8))


def _weight(f: RawFile) -> int:
    size = f.path.stat().st_size
    return size * _COMPRESSED_WEIGHT if f.path.suffix.lower() in (".gz", ".zst", ".zstd") else size


def _batches(files: Sequence[RawFile]) -> Iterator[list[RawFile]]:
    """The files in order, in batches of at most `batch_bytes()` of text (a larger file alone)."""
    limit, batch, size = batch_bytes(), [], 0
    for f in files:
        w = _weight(f)
        if batch and size + w > limit:
            yield batch
            batch, size = [], 0
        batch.append(f)
        size += w
    if batch:
        yield batch


def _stage(spec: SourceSpec, work: Path) -> Path:
    """Where this call keeps validated lines: the configured `parsed_lines` folder (per source and parser
    version, so a changed mapping never reuses old lines), else the call's own scratch."""
    root = parsed_lines_folder()
    if root is None:
        return work / "staged"
    version = hashlib.sha256((STAGE_LAYOUT + reader_sql("jsonl") + spec.mapping_sql()).encode()).hexdigest()[:12]
    return root / spec.id / version


# One staged delivery's mark: its counted lines, its text bytes, the part holding its kept lines.
_Mark = tuple[int, int, str]


def _marks_index(stage: Path) -> sqlite3.Connection:
    """The stage's marks index (created on first use): sha256 → parsed lines, text bytes, part."""
    con = sqlite3.connect(stage / MARKS_INDEX, timeout=MARKS_TIMEOUT_S)
    con.execute(
        "create table if not exists marks (sha256 text primary key, parsed integer not null,"
        " text_bytes integer not null, part text not null) without rowid"
    )
    return con


def _staged_marks(stage: Path, shas: set[str]) -> dict[str, _Mark]:
    """The marks of the deliveries among `shas` that are staged already (an indexed lookup)."""
    if not shas:
        return {}
    with closing(_marks_index(stage)) as con:
        con.execute("create temp table wanted (sha256 text primary key) without rowid")
        con.executemany("insert or ignore into wanted values (?)", ((s,) for s in shas))
        found = con.execute(
            "select m.sha256, m.parsed, m.text_bytes, m.part from marks as m join wanted using (sha256)"
        ).fetchall()
    return {sha: (int(parsed), int(text), str(part)) for sha, parsed, text, part in found}


def _mark(stage: Path, marks: dict[str, _Mark]) -> None:
    """Record staged deliveries in the index, in one transaction, after their part is in place."""
    with closing(_marks_index(stage)) as con, con:
        con.executemany(
            "insert or replace into marks values (?, ?, ?, ?)",
            ((sha, parsed, text, part) for sha, (parsed, text, part) in marks.items()),
        )


def read(spec: SourceSpec, files: Sequence[RawFile], *, dates_only: bool = False) -> ParseResult:
    """Canonical rows from JSONL deliveries; a file that is not UTF-8 text raises `UnreadableFile`.

    A bad line is rejected with its line number and field and the rest of the file loads. A delivery
    whose lines were kept before (by ingest, under `parsed_lines`) is not parsed again. With
    `dates_only` (what ingest needs to accept a file) the rows carry only their billing date and
    lineage; rejects and stats are the same. Under `rows_on_disk` the rows are left in Parquet files
    (`ParseResult.row_files`) for the caller to read a group of days at a time.
    """
    require_owners(spec, files)
    con = open_connection(spec, "jsonl")
    # every result below is ordered explicitly; not keeping insertion order lets the halves run together
    con.execute("set preserve_insertion_order = false")
    with scratch_dir() as work:
        stage = _stage(spec, work)
        stage.mkdir(parents=True, exist_ok=True)
        unique: dict[str, RawFile] = {}  # each file once, even when two engineers delivered it
        for f in files:
            if not f.path.is_file():  # raw keeps every delivery: a missing one is a bug, not bad data
                raise FileNotFoundError(f.path)
            unique.setdefault(f.sha256, f)
        marks = _staged_marks(stage, set(unique))
        not_utf8: set[str] = set()
        todo = [f for sha, f in unique.items() if sha not in marks]
        for number, batch in enumerate(_batches(todo)):
            staged, unreadable = _stage_batch(con, batch, stage, work / f"batch-{number}.parquet")
            marks.update(staged)
            not_utf8 |= unreadable
        for f in files:  # the first unreadable delivery, in delivery order
            if f.sha256 in not_utf8:
                raise UnreadableFile(f.name, None, "not UTF-8")
        # a delivery's lines are read from the one part its mark names (an older part may hold them too)
        index = file_index(files, [str(stage / marks[f.sha256][2]) for f in files]).with_row_index("delivery")
        index = index.cast({"delivery": pl.Int64}).with_columns(
            parsed=pl.Series([marks[f.sha256][0] for f in files], dtype=pl.Int64)
        )
        con.register("deliveries_frame", index)
        con.execute("create temp table deliveries as select * from deliveries_frame")
        con.unregister("deliveries_frame")
        parts = sorted({str(stage / marks[sha][2]) for sha in unique})
        text = sum(marks[sha][1] for sha in unique)
        buckets = max(1, math.ceil(text / min(BUCKET_BYTES, max(1, engine_limits().memory_limit // 4))))
        spill = rows_on_disk_folder()
        rows_dir = work / "rows" if spill is None or dates_only else Path(tempfile.mkdtemp(prefix="rows-", dir=spill))
        rows_dir.mkdir(exist_ok=True)
        con.execute(
            "create temp table rejected (delivery bigint, line bigint, reject_field varchar, reject_reason varchar)"
        )
        con.execute("create temp table line_dates (delivery bigint, min_date date, max_date date)")
        if parts:
            con.execute(
                "insert into rejected select delivery, line, reject_field, reject_reason"
                " from jsonl_staged('deliveries', $parts) where reject_reason is not null",
                {"parts": parts},
            )
            for bucket, lines in enumerate(_bucket_lines(con, spec, parts, buckets, work / "buckets")):
                out = rows_dir / f"bucket-{bucket:05d}.parquet"
                _merge_bucket(con, spec, lines, out, dates_only=dates_only)
                if buckets > 1:  # one row per delivery, whatever the number of buckets
                    con.execute(
                        "create or replace temp table line_dates as select delivery, min(min_date) as min_date,"
                        " max(max_date) as max_date from line_dates group by delivery"
                    )
        written = sorted(str(p) for p in rows_dir.glob("*.parquet"))
        on_disk = spill is not None and not dates_only
        if on_disk or not written:
            rows = USAGE_SCHEMA.to_frame()
        else:
            rows = con.sql("from read_parquet($p)", params={"p": written}).pl()
    rejects = con.sql("from jsonl_rejects('rejected', 'deliveries')").pl()
    stats = con.sql("from jsonl_stats('rejected', 'line_dates', 'deliveries')").pl()
    return finish(rows, rejects, stats, written if on_disk else ())


def _stage_batch(
    con: duckdb.DuckDBPyConnection, batch: list[RawFile], stage: Path, out: Path
) -> tuple[dict[str, _Mark], set[str]]:
    """Parse one batch of files (one delivery each) and keep their usage lines and rejects in one part,
    `stage/part-<id>.parquet`, with each file's counts and part in the marks index; return those marks
    and the sha256s that are not UTF-8.

    One part per batch, not one per file: writing and reading thousands of small Parquet files costs
    more than the parse. The part's name comes from the batch's sha256s, so staging it again writes
    the same name."""
    with plain_text_paths(batch) as paths:
        frame = file_index(batch, paths).with_row_index("delivery").cast({"delivery": pl.Int64})
        con.register("batch_frame", frame)
        con.execute("create or replace temp table batch_deliveries as select * from batch_frame")
        con.unregister("batch_frame")
        # DuckDB reads files on one thread per scan, so the files are read in two halves whose scans
        # run side by side.
        con.execute(
            "create or replace temp table lines as from source_lines('batch_deliveries', $first_half)"
            " union all from source_lines('batch_deliveries', $second_half)",
            {"first_half": paths[0::2], "second_half": paths[1::2]},
        )
        text = [Path(p).stat().st_size for p in paths]
    counts = {d: (parsed, bad) for d, parsed, bad in con.execute("from jsonl_counts('lines')").fetchall()}
    for delivery, f in enumerate(batch):
        if delivery not in counts:  # read_blob names files as given; anything else is a bug, not bad data
            raise FileNotFoundError(f.name)
    not_utf8 = {f.sha256 for delivery, f in enumerate(batch) if counts[delivery][1]}
    good = sorted(f.sha256 for f in batch if f.sha256 not in not_utf8)
    part = f"part-{hashlib.sha256(' '.join(good).encode()).hexdigest()[:24]}.parquet"
    kept = con.sql("from jsonl_kept('lines', 'batch_deliveries')")
    if good:
        kept.write_parquet(str(out), compression="zstd")
        os.replace(out, stage / part)  # a part of the same name holds the same lines
    con.execute("drop table lines")
    marks = {
        f.sha256: (int(counts[delivery][0]), text[delivery], part)
        for delivery, f in enumerate(batch)
        if f.sha256 not in not_utf8
    }
    _mark(stage, marks)  # written last: the lines are complete
    return marks, not_utf8


def _bucket_lines(
    con: duckdb.DuckDBPyConnection, spec: SourceSpec, parts: list[str], buckets: int, work: Path
) -> Iterator[tuple[str, dict[str, object]]]:
    """The usage lines of each hash bucket of the natural key in turn: a query and its parameters.

    One bucket reads the parts as they are; several are first split in one pass over the parts (one
    folder per bucket), so the parts are read once, not once per bucket."""
    if buckets == 1:
        yield "from jsonl_staged('deliveries', $parts) where is_usage", {"parts": parts}
        return
    key = ", ".join(f'"{c}"' for c in spec.natural_key)  # identifiers from the spec, never values
    split = con.sql(
        f"select *, hash({key}) % $buckets as bucket from jsonl_staged('deliveries', $parts) where is_usage",
        params={"parts": parts, "buckets": buckets},
    )
    # each thread buffers up to this many rows per bucket before writing them: bounded, whatever the buckets
    con.execute("set partitioned_write_flush_threshold = $rows", {"rows": max(4096, SPLIT_BUFFER_ROWS // buckets)})
    split.write_parquet(str(work), compression=SCRATCH_COMPRESSION, partition_by=["bucket"])
    for bucket in range(buckets):
        files = sorted(str(p) for p in (work / f"bucket={bucket}").glob("*.parquet"))
        if files:  # a bucket no key hashed to has no folder
            yield "from read_parquet($files, hive_partitioning = false)", {"files": files}


def _merge_bucket(
    con: duckdb.DuckDBPyConnection,
    spec: SourceSpec,
    lines: tuple[str, dict[str, object]],
    out: Path,
    *,
    dates_only: bool = False,
) -> None:
    """Merge the usage lines of one hash bucket of the natural key (the query `lines`, see `_bucket_lines`)
    into canonical rows, written to `out` ordered by billing date and record id, the order the lake build
    reads them in (with `dates_only`, each row's billing date and lineage alone)."""
    key = ", ".join(f'"{c}"' for c in spec.natural_key)  # identifiers from the spec, never values
    query, params = lines
    con.execute(f"create or replace temp table bucket_lines as {query}", params)
    # DuckDB drops the aggregates and the ordering no selected column needs: the dates cost a group-by
    # (delivery_rank, a window over every row, is for readers that keep the latest row: merged rows are unique)
    columns = f"billing_date, raw_sha256, ingested_at, source, {key}" if dates_only else "* exclude (delivery_rank)"
    con.execute(
        f"create or replace temp table merged as select {columns}"
        " from source_rows('bucket_lines', 'deliveries', $source, $provider, $publisher)",
        spec_params(spec),
    )
    # the billing dates its usage lines land on (the row each merged into), per delivery
    con.execute(
        "insert into line_dates select delivery, min(stat_date), max(stat_date)"
        " from source_checked('bucket_lines', 'merged') group by delivery"
    )
    if dates_only:
        con.sql("select billing_date, raw_sha256, ingested_at, source from merged").write_parquet(str(out))
    else:
        parts_sql = ", ".join(f'coalesce(cast("{c}" as varchar), chr(0))' for c in ("source", *spec.natural_key))
        rows = con.sql(
            f"select *, sha256(concat_ws(chr(31), {parts_sql})) as record_id from merged"
            " order by billing_date, record_id"
        )
        rows.write_parquet(str(out), compression=SCRATCH_COMPRESSION, row_group_size=ROW_GROUP_ROWS)
    con.execute("drop table bucket_lines")
    con.execute("drop table merged")
