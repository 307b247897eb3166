"""Benchmarks, reported as ratios against a baseline run side by side (never as timed test assertions).

1. Claude Code logs: our parser (DuckDB reads the lines, one batch) against a straightforward Polars
   baseline (`scan_ndjson` with a schema, same dedup rule) on the demo company's session files.
2. The whole demo pipeline at two sizes, to show cost grows with data, not faster.

Usage: `make bench` (or `python bench/run.py [--engineers N --days D]`). Prints a table; writes nothing
outside a temporary folder.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl

from pipelines.demo import generate
from pipelines.services.ingest import discover
from transforms.common import RawFile
from transforms.sources import parser

END = date(2026, 3, 31)


def timed(fn: Callable[[], object], repeat: int = 3) -> tuple[float, object]:
    """Median wall time of `repeat` runs, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def polars_baseline(files: list[RawFile]) -> pl.DataFrame:
    """The obvious Polars version: scan every file with a schema, drop non-usage lines, dedup by message."""
    usage = pl.Struct(
        {
            "input_tokens": pl.Int64,
            "output_tokens": pl.Int64,
            "cache_read_input_tokens": pl.Int64,
            "cache_creation_input_tokens": pl.Int64,
        }
    )
    schema = {"timestamp": pl.String, "message": pl.Struct({"id": pl.String, "model": pl.String, "usage": usage})}
    frames = [
        pl.scan_ndjson(f.path, schema=schema, ignore_errors=True).with_columns(
            pl.lit(f.provenance["owner"]).alias("owner")
        )
        for f in files
    ]
    return (
        pl.concat(frames)
        .filter(pl.col("message").struct.field("usage").is_not_null())
        .filter(pl.col("message").struct.field("model") != "<synthetic>")
        .select(
            "owner",
            pl.col("message").struct.field("id").alias("message_id"),
            pl.col("message").struct.field("usage").struct.field("output_tokens").alias("output_tokens"),
        )
        .group_by("owner", "message_id")
        .agg(pl.col("output_tokens").max())
        .collect(engine="streaming")
    )


def main() -> int:
    """Run both benchmarks and print ratios."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--engineers", type=int, default=200)
    ap.add_argument("--days", type=int, default=90)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        landing = Path(tmp) / "landing"
        truth = generate(landing, engineers=args.engineers, days=args.days, end=END, seed=7)
        # Polars cannot skip a malformed JSON line, so the file holding the demo's one bad line is left out of both.
        broken = {landing / m["file"] for m in truth.data["malformed_lines"]}
        found = [f for f in discover("claude_code_logs", [landing / "claude_code_logs"]) if f[0] not in broken]
        at = datetime(2026, 4, 1, tzinfo=UTC)
        files = [
            RawFile(path, f"{i:064x}", "claude_code_logs", i, at, name, {"owner": owner or ""})
            for i, (path, name, owner) in enumerate(found, start=1)
        ]
        lines = sum(1 for f in files for _ in f.path.open())
        ours_s, ours = timed(lambda: parser("claude_code_logs")(files))
        base_s, base = timed(lambda: polars_baseline(files))
        assert ours.rows.height == base.height, (ours.rows.height, base.height)  # type: ignore[union-attr]
        print(f"claude_code_logs: {len(files)} files, {lines} lines, {base.height} messages")  # type: ignore[union-attr]
        print(f"  polars scan_ndjson baseline  {base_s:7.2f} s   1.00x")
        print(f"  tokencomp parser (duckdb)    {ours_s:7.2f} s   {base_s / ours_s:.2f}x the baseline's speed")
        print("  (the parser also validates every line, counts rejects with line numbers and merges streamed lines)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
