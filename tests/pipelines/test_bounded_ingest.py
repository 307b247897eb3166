"""Claude Code logs: parsed once (ingest keeps the validated lines, the lake build reads them), and peak
memory that does not grow with the number of files (compared as memory, never as time)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from pipelines.config import Settings
from pipelines.services import ingest as ingest_service
from pipelines.services.ingest import _copies, _ingest_batches, ingest, read_manifest
from pipelines.services.lake import build_window, lake_files
from transforms.common import RawFile

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
    for kept in settings.parsed_lines.rglob("marks.sqlite"):
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


def _child(script: str, args: list[str], cwd: Path, env: dict[str, str]) -> list[str]:
    """What a fresh interpreter running `script` printed, split: its peak RSS is its own."""
    done = subprocess.run(
        [sys.executable, "-c", script, *args], env=env, cwd=cwd, check=True, capture_output=True, text=True
    )
    return done.stdout.split()


def _peak_kib(tmp: Path, files: int) -> tuple[int, int, int]:
    landing = write_sessions(tmp / f"landing-{files}", files, responses=300, tool_lines=8)
    (tmp / "tokencomp.toml").write_text('[duckdb]\nmemory_limit = "256MiB"\nthreads = 2\n')
    env = {**os.environ, "TOKENCOMP_CONFIG": str(tmp / "tokencomp.toml")}
    parsed, rows, peak = map(int, _child(PEAK, [str(tmp / f"data-{files}"), str(landing)], tmp, env))
    return parsed, rows, peak


def test_peak_memory_does_not_grow_with_the_number_of_files(tmp_path: Path) -> None:
    """Eight files of ~10 MiB each (about 80 MiB of text) are ingested and built in no more memory than
    two, within 1.3 times: files are read a bounded batch at a time and only slim lines are kept."""
    two = _peak_kib(tmp_path, 2)
    eight = _peak_kib(tmp_path, 8)
    assert (two[0], two[1]) == (2 * 300 * 9, 600)
    assert (eight[0], eight[1]) == (8 * 300 * 9, 2400)
    assert eight[2] <= 1.3 * two[2], f"peak RSS {eight[2]} KiB with 8 files vs {two[2]} KiB with 2"


def test_a_batch_is_checked_before_the_later_files_are_copied(settings: Settings) -> None:
    """The batcher takes the new files as their copies complete: it hands a full batch on before the copy
    of the files after it is asked for, so parsing one batch overlaps copying the next."""
    root = write_sessions(settings.landing, files=4, responses=5)
    files = [
        RawFile(p, str(n), "claude_code_logs", n, AT, p.name, {"owner": "dev@example.com"})
        for n, p in enumerate(sorted(root.rglob("*.jsonl")))
    ]
    asked: list[int] = []

    def copied() -> Iterator[RawFile]:
        for f in files:
            asked.append(f.seq)
            yield f

    size = files[0].path.stat().st_size
    batches = _ingest_batches(copied(), limit=2 * size)
    assert [f.seq for f in next(batches)] == [0, 1]
    assert asked == [0, 1, 2]  # the third file is what overflows the batch; the fourth is not asked for yet
    assert [[f.seq for f in b] for b in batches] == [[2, 3]]


def test_batch_size_changes_no_outcome_manifest_reject_or_lake_byte(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One file per batch or every file in one batch: the same outcomes, manifest, rejects and lake, a
    message replayed in another file (another batch) included."""
    root = write_sessions(settings.landing, files=5, responses=6)
    replay = root / "dev@example.com" / "projects" / "p" / "session-0.jsonl"
    first, *rest = replay.read_text().splitlines()
    bad = ["not json", first.replace('"msg_0_0"', '""')]
    (replay.parent / "session-9.jsonl").write_text("\n".join([first, *bad, *rest]) + "\n")

    def run(data: Path, limit: int) -> tuple[list[str], bytes, bytes, dict[str, bytes]]:
        monkeypatch.setattr(ingest_service, "INGEST_BATCH_BYTES", limit)
        other = dataclasses.replace(settings, data_dir=data)
        landing = tmp_path / f"landing-{limit}"
        shutil.copytree(root, landing)
        outcomes = ingest(other, "claude_code_logs", [landing], landed_at=AT)
        build_window(other, DAY, DAY)
        lake = {str(p.relative_to(data)): p.read_bytes() for p in lake_files(other)}
        manifest, rejects = (other.raw / "manifest.jsonl").read_bytes(), (other.raw / "rejects.jsonl").read_bytes()
        return [o.line() for o in outcomes], manifest, rejects, lake

    one_each = run(tmp_path / "one-each", 1)
    all_in_one = run(tmp_path / "all-in-one", 2**30)
    assert one_each == all_in_one
    rejects = [json.loads(x) for x in one_each[2].splitlines()]
    assert [(r["file"], r["line"], r["field"], r["reason"]) for r in rejects] == [
        ("dev@example.com/projects/p/session-9.jsonl", 2, None, "not JSON"),
        ("dev@example.com/projects/p/session-9.jsonl", 3, "message.id", "empty"),
    ]
    assert [line.split("  ")[-1] for line in one_each[0]][-1] == "parsed 8, loaded 6, rejected 2"


def test_a_batch_holds_at_most_ingest_batch_files_files(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Many small files are checked a bounded number at a time, however few bytes they hold."""
    root = write_sessions(settings.landing, files=5, responses=1)
    files = [
        RawFile(p, str(n), "claude_code_logs", n, AT, p.name, {"owner": "dev@example.com"})
        for n, p in enumerate(sorted(root.rglob("*.jsonl")))
    ]
    monkeypatch.setattr(ingest_service, "INGEST_BATCH_FILES", 2)
    assert [[f.seq for f in b] for b in _ingest_batches(iter(files))] == [[0, 1], [2, 3], [4]]


def test_copies_run_a_bounded_window_ahead_of_the_file_taken(settings: Settings, tmp_path: Path) -> None:
    """The copier runs a bounded number of files (and bytes) ahead of the file taken, not the whole delivery:
    after the first digest is taken, at most that window of copies has started, and every digest is that of
    its file's bytes, in order."""
    root = write_sessions(settings.landing, files=200, responses=1)
    paths = sorted(root.rglob("*.jsonl"))
    size = paths[0].stat().st_size
    for files, size_limit, window in ((8, 2**30, 8), (200, 3 * size, 3)):
        targets: list[Path | None] = [tmp_path / f"copy-{files}-{n}.jsonl" for n in range(len(paths))]
        digests = _copies(paths, targets, ahead_files=files, ahead_bytes=size_limit)
        first = next(digests)
        started = sum(1 for t in targets if t is not None and t.exists())
        assert 1 <= started <= window + 1
        assert [first, *digests] == [hashlib.sha256(p.read_bytes()).hexdigest() for p in paths]
        assert all(t is not None and t.read_bytes() == p.read_bytes() for p, t in zip(paths, targets, strict=True))


MANY = """
import json, resource, sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from pipelines.config import load_settings
from pipelines.services.ingest import ingest
root, files = Path(sys.argv[1]), int(sys.argv[2])
folder = root / "landing" / "dev@example.com" / "projects" / "p"
folder.mkdir(parents=True)
start = datetime(2026, 3, 2, 9, tzinfo=UTC)
for n in range(files):
    at = (start + timedelta(seconds=n)).isoformat().replace("+00:00", "Z")
    usage = {"input_tokens": 2, "output_tokens": 10, "cache_read_input_tokens": 100}
    message = {"id": f"msg_{n}", "model": "claude-sonnet-4-5-20250929", "usage": usage}
    line = {"type": "assistant", "timestamp": at, "requestId": f"r{n}", "message": message}
    (folder / f"session-{n}.jsonl").write_text(json.dumps(line) + "\\n")
settings = load_settings(data_dir=root / "data")
outcomes = ingest(settings, "claude_code_logs", [root / "landing"], landed_at=datetime(2026, 3, 6, tzinfo=UTC))
print(sum(o.status == "landed" for o in outcomes), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def test_what_ingest_holds_per_file_stays_small_however_many_files(tmp_path: Path) -> None:
    """Twenty thousand one-line files need at most 3.5 KiB more peak memory each than two thousand: each
    batch is finished (raw, manifest, rejects) once checked, and only a few copies are queued ahead. Before
    that, a call held about 9 KiB per file (a future per file, every file's stats until the end)."""
    peaks = {}
    for files in (2_000, 20_000):
        env = {k: v for k, v in os.environ.items() if k != "TOKENCOMP_CONFIG"}
        out = _child(MANY, [str(tmp_path / str(files)), str(files)], tmp_path, env)
        assert int(out[0]) == files
        peaks[files] = int(out[1])
    growth_kib = peaks[20_000] - peaks[2_000]
    assert growth_kib <= 18_000 * 3.5, f"{growth_kib / 18_000:.1f} KiB more peak RSS per file"
