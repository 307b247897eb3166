"""The JSONL reader: one JSON document per line; a bad line is rejected with its number and field.

The source's mapping SQL defines three macros over the reader's `jsonl_lines(deliveries, paths)`:
`source_lines(deliveries, paths)` (one row per line: `delivery`, `line`, `counted`, `not_utf8`,
`reject_field`, `reject_reason`, `is_usage` and what the line carries), `source_rows(lines,
deliveries, source, provider, publisher)` (the canonical rows the lines merge into, with lineage and
`delivery_rank`) and `source_checked(lines, rows)` (one record per counted line, see collect.sql).

Memory stays bounded however many files there are. Files are read in batches of at most
`batch_bytes()` of text; each batch keeps only its usage lines and rejects (slim columns, no text), in
Parquet under a scratch folder. The merge then runs bucket by bucket: every line of one natural key
hashes to the same bucket, so merging each bucket alone equals merging everything at once (every file
and delivery, sidechain replays and sessions across midnight included), while DuckDB holds one
bucket's keys at a time.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
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
    plain_text_paths,
    scratch_dir,
)
from transforms.sources._readers.base import lost_delivery, open_connection, require_owners, spec_params
from transforms.sources._registry import SourceSpec

# Text per batch and per merge bucket, at most; a smaller DuckDB memory limit lowers both.
BATCH_BYTES = 256 * 2**20
BUCKET_BYTES = 1024 * 2**20
# A compressed delivery is weighed at this many times its size (real logs inflate 10-30 times).
_COMPRESSED_WEIGHT = 10


def batch_bytes() -> int:
    """Text read into one batch, at most (a single larger file is a batch of its own)."""
    return max(1, min(BATCH_BYTES, engine_limits().memory_limit // 8))


def _weight(f: RawFile) -> int:
    size = f.path.stat().st_size
    return size * _COMPRESSED_WEIGHT if f.path.suffix.lower() in (".gz", ".zst", ".zstd") else size


def _batches(files: Sequence[RawFile]) -> Iterator[tuple[int, list[RawFile]]]:
    """(first delivery number, files) in delivery order, each batch at most `batch_bytes()` of text."""
    limit, start, batch, size = batch_bytes(), 0, [], 0
    for i, f in enumerate(files):
        w = _weight(f)
        if batch and size + w > limit:
            yield start, batch
            start, batch, size = i, [], 0
        batch.append(f)
        size += w
    if batch:
        yield start, batch


def read(spec: SourceSpec, files: Sequence[RawFile]) -> ParseResult:
    """Canonical rows from JSONL deliveries; a file that is not UTF-8 text raises `UnreadableFile`.

    A bad line is rejected with its line number and field and the rest of the file loads.
    """
    require_owners(spec, files)
    con = open_connection(spec, "jsonl")
    # every result below is ordered explicitly; not keeping insertion order lets the halves run together
    con.execute("set preserve_insertion_order = false")
    con.execute("create temp table deliveries as from jsonl_delivery_columns()")
    con.execute("create temp table counts as from jsonl_count_columns()")
    con.execute("create temp table rejected as from jsonl_reject_columns()")
    with scratch_dir() as work:
        text = 0
        for start, batch in _batches(files):
            text += _read_batch(con, batch, start, work / "lines" / f"batch={start:09d}")
        lost_delivery(con, "counts")
        bad = con.execute(
            "select file from deliveries where delivery in (select delivery from counts where not_utf8)"
            " order by delivery limit 1"
        ).fetchone()
        if bad is not None:
            raise UnreadableFile(bad[0], None, "not UTF-8")
        buckets = max(1, math.ceil(text / min(BUCKET_BYTES, max(1, engine_limits().memory_limit // 4))))
        parts = sorted(str(p) for p in (work / "lines").glob("*/*.parquet"))
        rows_dir = work / "rows"
        rows_dir.mkdir()
        con.execute("create temp table line_dates as from jsonl_date_columns()")
        for bucket in range(buckets):
            _merge_bucket(con, spec, parts, bucket, buckets, rows_dir / f"bucket-{bucket:05d}.parquet")
        written = sorted(str(p) for p in rows_dir.glob("*.parquet"))
        rows = con.sql("from read_parquet($p)", params={"p": written}).pl()
    rejects = con.sql("from jsonl_rejects('rejected', 'deliveries')").pl()
    stats = con.sql("from jsonl_stats('counts', 'rejected', 'line_dates', 'deliveries')").pl()
    return finish(rows, rejects, stats)


def _read_batch(con: duckdb.DuckDBPyConnection, batch: list[RawFile], start: int, out: Path) -> int:
    """Parse one batch of files: count lines, keep rejects, write usage lines to `out`; return its text bytes."""
    with plain_text_paths(batch) as paths:
        frame = file_index(batch, paths).with_row_index("delivery", offset=start).cast({"delivery": pl.Int64})
        con.register("batch_frame", frame)
        con.execute("create or replace temp table batch_deliveries as select * from batch_frame")
        con.unregister("batch_frame")
        con.execute("insert into deliveries by name from batch_deliveries")
        distinct = sorted(set(paths))
        # DuckDB reads files on one thread per scan, so the files are read in two halves whose scans
        # run side by side.
        con.execute(
            "create or replace temp table lines as from source_lines('batch_deliveries', $first_half)"
            " union all from source_lines('batch_deliveries', $second_half)",
            {"first_half": distinct[0::2], "second_half": distinct[1::2]},
        )
        text = sum(Path(p).stat().st_size for p in distinct)
    con.execute("insert into counts by name from jsonl_counts('lines')")
    con.execute("insert into rejected by name from jsonl_line_rejects('lines')")
    out.mkdir(parents=True)  # written even when empty, so the merge always knows the columns
    con.sql("from jsonl_kept('lines')").write_parquet(str(out / "part.parquet"), compression="zstd")
    con.execute("drop table lines")
    return text


def _merge_bucket(
    con: duckdb.DuckDBPyConnection, spec: SourceSpec, parts: list[str], bucket: int, buckets: int, out: Path
) -> None:
    """Merge the usage lines of one hash bucket of the natural key into canonical rows, written to `out`."""
    key = ", ".join(f'"{c}"' for c in spec.natural_key)  # identifiers from the spec, never values
    con.execute(
        f"create or replace temp table bucket_lines as select * from read_parquet($parts, hive_partitioning = false)"
        f" where hash({key}) % $buckets = $bucket",
        {"parts": parts, "buckets": buckets, "bucket": bucket},
    )
    con.execute(
        "create or replace temp table merged as"
        " from source_rows('bucket_lines', 'deliveries', $source, $provider, $publisher)",
        spec_params(spec),
    )
    # the billing dates its usage lines land on (the row each merged into), per delivery
    con.execute(
        "insert into line_dates select delivery, min(stat_date), max(stat_date)"
        " from source_checked('bucket_lines', 'merged') group by delivery"
    )
    parts_sql = ", ".join(f'coalesce(cast("{c}" as varchar), chr(0))' for c in ("source", *spec.natural_key))
    rows = con.sql(f"select *, sha256(concat_ws(chr(31), {parts_sql})) as record_id from merged")
    rows.write_parquet(str(out), compression="zstd")
    con.execute("drop table bucket_lines")
    con.execute("drop table merged")
