"""Claude Code logs: parsed once (ingest keeps the validated lines, the lake build reads them), and peak
memory that does not grow with the number of files (compared as memory, never as time)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from pipelines.config import Settings
from pipelines.services.ingest import ingest, read_manifest
from pipelines.services.lake import build_window, lake_files

AT = datetime(2026, 3, 6, 6, 0, tzinfo=UTC)
DAY = date(2026, 3, 2)
# a tool result as Claude Code logs it: user lines carry most of a session file's bytes
TOOL_OUTPUT = "x" * 4000


def write_sessions(landing: Path, files: int, responses: int, *, tool_lines: int = 0) -> Path:
    """`files` session files of one engineer under landing/claude_code_logs/<email>/projects/p/."""
    folder = landing / "claude_code_logs" / "dev@example.com" / "projects" / "p"
    folder.mkdir(parents=True, exist_ok=True)
    start = datetime(DAY.year, DAY.month, DAY.day, 9, tzinfo=UTC)
    for n in range(files):
        lines = []
        for i in range(responses):
            at = (start + timedelta(seconds=n * responses + i)).isoformat().replace("+00:00", "Z")
            usage = {"input_tokens": 2, "output_tokens": 10 + i % 5, "cache_read_input_tokens": 100}
            message = {"id": f"msg_{n}_{i}", "model": "claude-sonnet-4-5-20250929", "usage": usage}
            lines.append(
                json.dumps({"type": "assistant", "timestamp": at, "requestId": f"r{n}{i}", "message": message})
            )
            for _ in range(tool_lines):
                content = [{"type": "tool_result", "content": TOOL_OUTPUT}]
                lines.append(
                    json.dumps({"type": "user", "timestamp": at, "message": {"role": "user", "content": content}})
                )
        (folder / f"session-{n}.jsonl").write_text("\n".join(lines) + "\n")
    return landing / "claude_code_logs"


def test_lake_build_reads_the_lines_ingest_kept(settings: Settings) -> None:
    root = write_sessions(settings.landing, files=3, responses=40)
    outcomes = ingest(settings, "claude_code_logs", [root], landed_at=AT)
    assert [(o.status, o.parsed, o.loaded) for o in outcomes] == [("landed", 40, 40)] * 3
    report = build_window(settings, DAY, DAY)
    assert report.rows == 120
    built = {p: p.read_bytes() for p in lake_files(settings)}

    # the cache is transparent: without it the lake build parses raw and writes the same bytes
    for kept in settings.parsed_lines.rglob("*.json"):
        kept.unlink()
    build_window(settings, DAY, DAY)
    assert {p: p.read_bytes() for p in lake_files(settings)} == built

    # with it, raw's bytes are not read again (raw never changes; this only shows they are not parsed twice)
    for row in read_manifest(settings).iter_rows(named=True):
        raw = settings.raw / row["raw_path"]
        os.chmod(raw, 0o600)
        raw.write_text("not what was parsed\n")
    assert build_window(settings, DAY, DAY).rows == 120
    assert {p: p.read_bytes() for p in lake_files(settings)} == built


PEAK = """
import resource, sys
from datetime import UTC, date, datetime
from pathlib import Path
from pipelines.config import load_settings
from pipelines.services.ingest import ingest
from pipelines.services.lake import build_window
settings = load_settings(data_dir=sys.argv[1])
outcomes = ingest(settings, "claude_code_logs", [Path(sys.argv[2])], landed_at=datetime(2026, 3, 6, tzinfo=UTC))
report = build_window(settings, date(2026, 3, 2), date(2026, 3, 2))
print(sum(o.parsed for o in outcomes), report.rows, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _peak_kib(tmp: Path, files: int) -> tuple[int, int, int]:
    landing = write_sessions(tmp / f"landing-{files}", files, responses=300, tool_lines=8)
    (tmp / "tokencomp.toml").write_text('[duckdb]\nmemory_limit = "256MiB"\nthreads = 2\n')
    env = {**os.environ, "TOKENCOMP_CONFIG": str(tmp / "tokencomp.toml")}
    out = subprocess.run(
        [sys.executable, "-c", PEAK, str(tmp / f"data-{files}"), str(landing)],
        env=env,
        cwd=tmp,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    parsed, rows, peak = map(int, out)
    return parsed, rows, peak


def test_peak_memory_does_not_grow_with_the_number_of_files(tmp_path: Path) -> None:
    """Eight files of ~10 MiB each (about 80 MiB of text) are ingested and built in no more memory than
    two, within 1.3 times: files are read a bounded batch at a time and only slim lines are kept."""
    two = _peak_kib(tmp_path, 2)
    eight = _peak_kib(tmp_path, 8)
    assert (two[0], two[1]) == (2 * 300 * 9, 600)
    assert (eight[0], eight[1]) == (8 * 300 * 9, 2400)
    assert eight[2] <= 1.3 * two[2], f"peak RSS {eight[2]} KiB with 8 files vs {two[2]} KiB with 2"
