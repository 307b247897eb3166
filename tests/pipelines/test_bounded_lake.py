"""The lake build in groups of whole days: the same partitions, to the byte and to the exact dollar, whatever
the group size, and peak memory that follows a group, not the window (compared as memory, never as time)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from pipelines.config import Settings
from pipelines.services.ingest import ingest
from pipelines.services.lake import build_window, lake_files, plan_chunks, read_lake

AT = datetime(2026, 3, 20, 6, 0, tzinfo=UTC)
FIRST = date(2026, 3, 1)
MODEL = "claude-sonnet-4-5-20250929"  # list: $3 input, $15 output, $0.30 cache read per million tokens
FILES_PER_DAY = 4


def output_of(i: int) -> int:
    return 10 + i % 5


def write_days(landing: Path, days: int, per_day: int) -> Path:
    """`days` days of one engineer's sessions from FIRST: `per_day` messages a day over FILES_PER_DAY files,
    each response streamed over two lines (output growing), every message replayed by a sidechain file."""
    folder = landing / "claude_code_logs" / "dev@example.com" / "projects" / "p"
    folder.mkdir(parents=True, exist_ok=True)
    for d in range(days):
        start = datetime(FIRST.year, FIRST.month, FIRST.day, 8, tzinfo=UTC) + timedelta(days=d)
        per_file = per_day // FILES_PER_DAY
        for f in range(FILES_PER_DAY):
            lines = []
            for i in range(per_file):
                at = (start + timedelta(seconds=f * per_file + i)).isoformat().replace("+00:00", "Z")
                for output in (1, output_of(i)):  # a streamed response: the last line has the final output
                    usage = {"input_tokens": 2, "output_tokens": output, "cache_read_input_tokens": 100}
                    message = {"id": f"msg_{d}_{f}_{i}", "model": MODEL, "usage": usage}
                    lines.append(json.dumps({"type": "assistant", "timestamp": at, "message": message}))
            text = "\n".join(lines) + "\n"
            (folder / f"session-{d}-{f}.jsonl").write_text(text)
            (folder / f"sidechain-{d}-{f}.jsonl").write_text(text)  # a replay: merged, never counted twice
    return landing / "claude_code_logs"


def test_days_in_groups_equal_one_group_to_the_byte_and_the_exact_totals(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    days, per_day = 6, 40
    ingest(settings, "claude_code_logs", [write_days(settings.landing, days, per_day)], landed_at=AT)
    last = FIRST + timedelta(days=days - 1)
    report = build_window(settings, FIRST, last)
    one_group = {p.parent.name: p.read_bytes() for p in lake_files(settings)}
    assert report.rows == days * per_day and report.partitions_written == days

    # computed apart, in plain Python: one row per message, the final output, list prices per million tokens
    outputs = [output_of(i) for _ in range(days * FILES_PER_DAY) for i in range(per_day // FILES_PER_DAY)]
    cost = sum((Decimal(2) * 3 + Decimal(out) * 15 + Decimal(100) * Decimal("0.30")) / 1_000_000 for out in outputs)
    lake = read_lake(settings).collect()
    assert lake.height == days * per_day == len(outputs)
    assert lake["output_tokens"].sum() == sum(outputs) == 2880
    assert lake["list_cost_usd"].sum() == cost == Decimal("0.05184")
    per_day_rows = lake.group_by("billing_date").len().sort("billing_date")
    assert per_day_rows.rows() == [(FIRST + timedelta(days=d), per_day) for d in range(days)]

    # groups of one and two days (a group never splits a day) write the same bytes
    for limit in (1, 2 * per_day):
        monkeypatch.setattr("pipelines.services.lake.CHUNK_ROWS", limit)
        again = build_window(settings, FIRST, last)
        assert {p.parent.name: p.read_bytes() for p in lake_files(settings)} == one_group
        assert again.rows == report.rows and again.partitions_written == days


def test_groups_are_whole_days_of_at_most_the_limit() -> None:
    d = [FIRST + timedelta(days=i) for i in range(5)]
    counts = {d[0]: 3, d[1]: 3, d[2]: 9, d[4]: 1}
    assert plan_chunks(counts, d[0], d[4], 6) == [(d[0], d[1]), (d[2], d[2]), (d[3], d[4])]
    assert plan_chunks({}, d[0], d[4], 6) == [(d[0], d[4])]
    assert plan_chunks(counts, d[0], d[4], 1) == [(d[0], d[0]), (d[1], d[1]), (d[2], d[2]), (d[3], d[4])]


PEAK = """
import resource, sys
from datetime import date, timedelta
from pipelines.config import load_settings
from pipelines.services.lake import build_window
settings = load_settings(data_dir=sys.argv[1])
first = date.fromisoformat(sys.argv[2])
report = build_window(settings, first, first + timedelta(days=int(sys.argv[3]) - 1))
print(report.rows, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _lake_peak_kib(data: Path, config: Path, days: int) -> tuple[int, int]:
    env = {**os.environ, "TOKENCOMP_CONFIG": str(config)}
    out = subprocess.run(
        [sys.executable, "-c", PEAK, str(data), FIRST.isoformat(), str(days)],
        env=env,
        cwd=data.parent,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    rows, peak = map(int, out)
    return rows, peak


def test_peak_memory_of_the_lake_build_does_not_grow_with_the_days(settings: Settings, tmp_path: Path) -> None:
    """Sixteen days of 8,000 messages are built in no more memory than four, within 1.3 times: with a
    64 MiB DuckDB limit a group holds about four days, and the window's rows wait on disk (a build that
    held its window needed about 1.7 times as much)."""
    per_day = 8_000
    ingest(settings, "claude_code_logs", [write_days(settings.landing, 16, per_day)], landed_at=AT)
    config = tmp_path / "tokencomp.toml"
    config.write_text('[duckdb]\nmemory_limit = "64MiB"\nthreads = 2\n')
    four = _lake_peak_kib(settings.data_dir, config, 4)
    sixteen = _lake_peak_kib(settings.data_dir, config, 16)
    assert (four[0], sixteen[0]) == (4 * per_day, 16 * per_day)
    assert pl.read_parquet(lake_files(settings)).height == 16 * per_day
    assert sixteen[1] <= 1.3 * four[1], f"peak RSS {sixteen[1]} KiB for 16 days vs {four[1]} KiB for 4"
