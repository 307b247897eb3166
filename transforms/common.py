"""Shared plumbing for source parsers: the raw-file handle, parse results, and key hashing.

A parser turns raw deliveries of one source into canonical rows (`transforms.schema`). It never
decides spend roles, prices or engineers; the pipeline adds those afterwards.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import shutil
import tempfile
import zlib
from collections.abc import Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import BinaryIO

import duckdb
import polars as pl
import zstandard

from transforms.schema import FILE_STATS_SCHEMA, REJECT_SCHEMA, USAGE_SCHEMA, conform


@dataclass(frozen=True)
class RawFile:
    """One accepted delivery in raw/: the bytes as landed, plus the manifest facts about it."""

    path: Path
    sha256: str
    source: str
    seq: int
    landed_at: datetime
    name: str
    provenance: Mapping[str, str] = field(default_factory=dict)


class UnreadableFile(ValueError):
    """A file that cannot be read as its source's format at all; ingest quarantines it."""

    def __init__(self, name: str, field_name: str | None, reason: str, line: int | None = None) -> None:
        self.name = name
        self.field_name = field_name
        self.reason = reason
        self.line = line
        where = name if line is None else f"{name}:{line}"
        what = f"field {field_name!r}: " if field_name else ""
        super().__init__(f"{where}: {what}{reason}")


@dataclass
class ParseResult:
    """Canonical rows, the lines rejected one by one, and per-file counts (parsed = loaded + rejected)."""

    rows: pl.DataFrame
    rejects: pl.DataFrame
    stats: pl.DataFrame
    # a line reader under `rows_on_disk` leaves its rows in these Parquet files (canonical columns, each file
    # ordered by billing_date, record_id) and `rows` empty, so a large window never sits in memory at once
    row_files: tuple[str, ...] = ()

    @classmethod
    def empty(cls) -> ParseResult:
        """A result with no rows, used when a window has no deliveries."""
        return cls(
            rows=USAGE_SCHEMA.to_frame(),
            rejects=REJECT_SCHEMA.to_frame(),
            stats=FILE_STATS_SCHEMA.to_frame(),
        )


@dataclass(frozen=True)
class InflateLimits:
    """Where compressed deliveries are inflated and how large an inflated file may grow.

    `scratch_root` None means the system temp folder; `max_inflated_bytes` None means no cap. A file that
    has inflated past `RATIO_FLOOR_BYTES` and to more than `max_inflation_ratio` times its delivered size is
    a compression bomb (real exports inflate 10-30 times), stopped long before any size cap would.
    """

    scratch_root: Path | None = None
    max_inflated_bytes: int | None = None
    max_inflation_ratio: int | None = None


_LIMITS: ContextVar[InflateLimits | None] = ContextVar("tokencomp_inflate_limits", default=None)
# zstd inflates at most ~32,768:1, so 4 KiB of input never yields more than ~128 MiB at once
_ZSTD_INPUT = 4096
_BLOCK = 1 << 20
RATIO_FLOOR_BYTES = 64 << 20


@contextlib.contextmanager
def inflate_limits(limits: InflateLimits) -> Iterator[None]:
    """Inflate compressed deliveries under `limits` while the block runs (the pipeline sets its data dir's cap)."""
    token = _LIMITS.set(limits)
    try:
        yield
    finally:
        _LIMITS.reset(token)


_STAGE: ContextVar[Path | None] = ContextVar("tokencomp_parsed_lines", default=None)


@contextlib.contextmanager
def parsed_lines(folder: Path | None) -> Iterator[None]:
    """Keep the validated lines a line reader parses under `folder` (by source, parser version and sha256)
    while the block runs, and reuse them: a delivery is parsed once, at ingest, and the lake build reads
    what ingest kept. The folder is a cache: deleting it costs a re-parse, never data."""
    token = _STAGE.set(folder)
    try:
        yield
    finally:
        _STAGE.reset(token)


def parsed_lines_folder() -> Path | None:
    """Where line readers keep validated lines in this block (None: nowhere beyond the call)."""
    return _STAGE.get()


_ROWS_ON_DISK: ContextVar[Path | None] = ContextVar("tokencomp_rows_on_disk", default=None)


@contextlib.contextmanager
def rows_on_disk(folder: Path | None) -> Iterator[None]:
    """While the block runs, line readers write the canonical rows they merge as Parquet under `folder`
    (`ParseResult.row_files`) instead of returning them in memory: the lake build reads them back a
    bounded group of days at a time. The caller owns and removes the folder."""
    token = _ROWS_ON_DISK.set(folder)
    try:
        yield
    finally:
        _ROWS_ON_DISK.reset(token)


def rows_on_disk_folder() -> Path | None:
    """Where line readers leave their rows in this block (None: in memory, in `ParseResult.rows`)."""
    return _ROWS_ON_DISK.get()


def scratch_prefix() -> str:
    """Prefix of a scratch folder; the process id lets a later start sweep the folders of dead processes."""
    return f"inflate-{os.getpid()}-"


def _gzip_blocks(src: BinaryIO) -> Iterator[bytes]:
    with gzip.GzipFile(fileobj=src) as inflated:
        while block := inflated.read(_BLOCK):
            yield block


def _zstd_blocks(src: BinaryIO) -> Iterator[bytes]:
    """Every frame of a zstd stream, in bounded blocks; a truncated last frame is an error, not an end."""
    dctx = zstandard.ZstdDecompressor()
    frame, fed = dctx.decompressobj(), False
    while chunk := src.read(_ZSTD_INPUT):
        while chunk:
            fed = True
            if block := frame.decompress(chunk):
                yield block
            if not frame.eof:
                break
            chunk = frame.unused_data
            frame, fed = dctx.decompressobj(), False
    if fed and not frame.eof:
        raise EOFError("compressed file ended before the end of its last frame")


def _inflate(f: RawFile, suffix: str, target: Path, limits: InflateLimits) -> None:
    """Inflate one delivery to `target`, streamed; a corrupt, over-cap or bomb file raises `UnreadableFile`."""
    kind = "gzip" if suffix == ".gz" else "zstd"
    cap, ratio = limits.max_inflated_bytes, limits.max_inflation_ratio
    written = 0
    with f.path.open("rb") as src, target.open("wb") as dst:
        delivered = max(os.fstat(src.fileno()).st_size, 1)
        try:
            for block in _gzip_blocks(src) if kind == "gzip" else _zstd_blocks(src):
                written += len(block)
                if cap is not None and written > cap:
                    raise UnreadableFile(
                        f.name, None, f"inflates to more than ingest.max_inflated_bytes ({cap:,} bytes)"
                    )
                if ratio is not None and written > RATIO_FLOOR_BYTES and written > ratio * delivered:
                    raise UnreadableFile(
                        f.name,
                        None,
                        f"inflates to more than ingest.max_inflation_ratio ({ratio:,} times its {delivered:,} "
                        "bytes): a compression bomb",
                    )
                dst.write(block)
        except (gzip.BadGzipFile, EOFError, zlib.error, zstandard.ZstdError) as exc:
            raise UnreadableFile(f.name, None, f"not a readable {kind} file ({exc})") from exc


@contextlib.contextmanager
def scratch_dir() -> Iterator[Path]:
    """A private scratch folder under the inflate limits' scratch root (the data dir's `_tmp/`), removed after."""
    root = (_LIMITS.get() or InflateLimits()).scratch_root
    if root is not None:
        root.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=scratch_prefix(), dir=root))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def plain_text_paths(files: Sequence[RawFile]) -> Iterator[list[str]]:
    """Yield paths DuckDB's `read_text` can open: compressed raw files are inflated to a scratch dir.

    raw/ keeps the bytes exactly as delivered (gzip and zstd included), so decompression happens here,
    one file at a time and streamed in bounded blocks, never in memory as a whole. A file that is not
    valid gzip/zstd, or inflates past the cap of `inflate_limits`, raises `UnreadableFile`.
    """
    limits = _LIMITS.get() or InflateLimits()
    scratch: Path | None = None
    out: list[str] = []
    try:
        for f in files:
            suffix = f.path.suffix.lower()
            if suffix not in (".gz", ".zst", ".zstd"):
                out.append(str(f.path))
                continue
            if scratch is None:
                if limits.scratch_root is not None:
                    limits.scratch_root.mkdir(parents=True, exist_ok=True)
                scratch = Path(tempfile.mkdtemp(prefix=scratch_prefix(), dir=limits.scratch_root))
            target = scratch / f"{f.sha256}{Path(f.path.stem).suffix}"
            _inflate(f, suffix, target, limits)
            out.append(str(target))
        yield out
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def file_index(files: Sequence[RawFile], paths: Sequence[str]) -> pl.DataFrame:
    """A frame mapping each readable path to its delivery's sha256, seq, landed_at, name and provenance.

    Parsers join it onto `read_text(...)`'s `filename` column to stamp lineage on every row.
    """
    return pl.DataFrame(
        {
            "filename": list(paths),
            "raw_sha256": [f.sha256 for f in files],
            "seq": [f.seq for f in files],
            "ingested_at": [f.landed_at for f in files],
            "file": [f.name for f in files],
            "owner": [f.provenance.get("owner") for f in files],
        },
        schema={
            "filename": pl.String,
            "raw_sha256": pl.String,
            "seq": pl.Int64,
            "ingested_at": pl.Datetime("us", "UTC"),
            "file": pl.String,
            "owner": pl.String,
        },
    )


@dataclass(frozen=True)
class EngineLimits:
    """How much of the machine every DuckDB connection of the pipeline may use (config `[duckdb]`).

    `memory_limit` in bytes, `threads` worker threads, `temp_directory` where DuckDB spills what does
    not fit (None: DuckDB's own default). The defaults follow the machine: a fraction of its RAM and
    every CPU it has.
    """

    memory_limit: int
    threads: int
    temp_directory: Path | None = None

    @classmethod
    def for_machine(cls, temp_directory: Path | None = None) -> EngineLimits:
        """Defaults derived from this machine: `DEFAULT_MEMORY_SHARE` of its RAM, all of its CPUs."""
        return cls(int(machine_memory() * DEFAULT_MEMORY_SHARE), os.cpu_count() or 1, temp_directory)

    def config(self) -> dict[str, str | int]:
        """The limits as `duckdb.connect(config=...)` takes them."""
        out: dict[str, str | int] = {"threads": self.threads, "memory_limit": f"{self.memory_limit // 2**20}MiB"}
        if self.temp_directory is not None:
            out["temp_directory"] = str(self.temp_directory)
        return out


# A share, not all of it: the pipeline's own frames (Polars, Arrow) live beside DuckDB's buffers.
DEFAULT_MEMORY_SHARE = 0.4


def machine_memory() -> int:
    """Physical RAM of this machine in bytes (cgroup limits are left to DuckDB's own detection)."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


_ENGINE: EngineLimits | None = None


def configure_engine(limits: EngineLimits) -> None:
    """Set the limits every later `connect()` in this process applies (the pipeline's config does this)."""
    global _ENGINE
    _ENGINE = limits


def engine_limits() -> EngineLimits:
    """The limits in force: the configured ones, else the machine's defaults."""
    return _ENGINE or EngineLimits.for_machine()


def connect(database: str = ":memory:", *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """The one way the pipeline opens DuckDB: within `engine_limits()`, UTC session.

    In memory by default (a parser engine); `database` names a file to open instead.
    """
    con = duckdb.connect(database, read_only=read_only, config=engine_limits().config())
    con.execute("set timezone = 'UTC'")
    return con


def with_record_id(rows: pl.DataFrame, key_columns: Sequence[str]) -> pl.DataFrame:
    """Set `record_id` = sha256 of the source plus the natural key columns (nulls kept distinct).

    The hash is computed by DuckDB's `sha256` so it is stable across library versions and machines.
    """
    con = connect()
    parts = ", ".join(f'coalesce(cast("{c}" as varchar), chr(0))' for c in ("source", *key_columns))
    return con.sql(f"select * replace (sha256(concat_ws(chr(31), {parts})) as record_id) from rows").pl()


def keep_latest(rows: pl.DataFrame, order: str = "seq") -> pl.DataFrame:
    """One row per `record_id`: the latest delivery in manifest order wins (DESIGN: corrected re-pulls)."""
    return rows.sort(order).unique(subset="record_id", keep="last", maintain_order=True)


def finish(
    rows: pl.DataFrame, rejects: pl.DataFrame, stats: pl.DataFrame, row_files: Sequence[str] = ()
) -> ParseResult:
    """Conform the parser's output to the canonical schemas, deterministically ordered."""
    out = conform(rows).sort("billing_date", "record_id").collect()
    return ParseResult(
        rows=out,
        rejects=rejects.select(REJECT_SCHEMA.names()).cast(dict(REJECT_SCHEMA)),  # type: ignore[arg-type]
        stats=stats.select(FILE_STATS_SCHEMA.names()).cast(dict(FILE_STATS_SCHEMA)),  # type: ignore[arg-type]
        row_files=tuple(row_files),
    )


def strictly_sorted(frame: pl.DataFrame, columns: Sequence[str]) -> bool:
    """Whether every row of `frame` comes strictly after the one before in the order of `columns` (a null
    anywhere in them, or two rows alike, answers False): a sort would keep the frame as it is."""
    if frame.height < 2:
        return True
    after, same = pl.lit(False), pl.lit(True)
    for name in columns:
        column, before = pl.col(name), pl.col(name).shift(1)
        after, same = after | (same & (column > before)), same & (column == before)
    return bool(frame.select(after.slice(1).fill_null(False).all()).item())


ROW_ORDER: tuple[str, ...] = ("billing_date", "record_id")


def read_rows(result: ParseResult, start: date, end: date) -> pl.DataFrame:
    """A parse result's canonical rows of billing days [start, end], in the reader's order (billing_date,
    record_id), whether they were kept in memory or on disk (`rows_on_disk`)."""
    in_window = pl.col("billing_date").is_between(start, end, closed="both")
    if not result.row_files:
        return result.rows.filter(in_window)
    kept = pl.scan_parquet(list(result.row_files)).filter(in_window)
    names = [c for c in kept.collect_schema().names() if c in USAGE_SCHEMA]
    rows = kept.select(names).collect()
    # each file is in this order already (a sort of sorted runs is cheap): the columns a file lacks are
    # added after the sort, never copied by it
    if not strictly_sorted(rows, ROW_ORDER):
        rows = rows.sort(*ROW_ORDER)
    return conform(rows).collect()
