"""`make bench` end to end at a tiny size (bench/run.py in a child process, into a temp folder).

The figures are the bench's own checks: the lake against the single-statement baseline, and the corpus's
lines and messages counted here once more in plain Python from the same deterministic generator.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
from ccusage import compare  # noqa: E402
from generate import write_corpus  # noqa: E402

CASES = ("baseline", "raw copy", "ingest", "lake build", "ingest + lake build", "warehouse build", "ccusage")


def _bench(tmp: Path, *args: str, free: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CCUSAGE", "SIZE", "SIZES", "REPEAT")}
    env |= {"BENCH_DIR": str(tmp), "NPM": str(tmp / "no-npm-here"), "DAGSTER_HOME": str(tmp / ".dagster")}
    if free is not None:
        env["BENCH_FREE_BYTES"] = free
    argv = [sys.executable, str(ROOT / "bench" / "run.py"), "--out", str(tmp / "results.md")]
    argv += ["--node-dir", str(tmp / "node"), "--repeat", "1", *args]
    return subprocess.run(argv, cwd=tmp, env=env, capture_output=True, text=True, check=False)


def _plain_python_facts(root: Path) -> tuple[int, int, int]:
    """Lines, messages and output tokens of a corpus, deduplicated by (engineer, message.id) keeping the max."""
    lines, best = 0, defaultdict(int)
    for path in root.rglob("*.jsonl"):
        owner = path.relative_to(root).parts[0]
        for line in path.read_text().splitlines():
            lines += 1
            message = json.loads(line)["message"]
            key = (owner, message["id"])
            best[key] = max(best[key], message["usage"]["output_tokens"])
    return lines, len(best), sum(best.values())


def _rows(text: str) -> dict[str, list[str]]:
    cells = [line.removeprefix("| ").removesuffix(" |").split(" | ") for line in text.splitlines()]
    return {c[0]: c[1:] for c in cells if len(c) == 7 and c[0] not in ("case", "---")}


def _targets(text: str) -> list[str]:
    return text.split("## Targets\n\n", 1)[1].splitlines()


def test_bench_at_10k_writes_every_row_and_check(tmp_path: Path) -> None:
    done = _bench(tmp_path, "--sizes", "10K", "--ccusage-sizes", "10K", "--history-engineers", "0",
                  "--company-engineers", "0")  # fmt: skip
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "results.md").read_text()
    rows = _rows(text)
    assert list(rows) == [f"claude_code_logs 10K: {c}" for c in CASES]
    write_corpus(tmp_path / "again", 10_000)  # the same corpus: the generator is deterministic
    lines, messages, output = _plain_python_facts(tmp_path / "again")
    assert (lines, messages, output) == (10_130, 5_947, 4_483_300)
    for name in ("baseline", "raw copy", "ingest", "ingest + lake build"):
        assert rows[f"claude_code_logs 10K: {name}"][0] == f"{lines:,}"
    assert rows["claude_code_logs 10K: lake build"][0] == f"{messages:,}"
    assert rows["claude_code_logs 10K: baseline"][4] == "1.00"
    assert rows["claude_code_logs 10K: ingest + lake build"][4].endswith("(median of 1)")
    assert rows["claude_code_logs 10K: ccusage"][:2] == ["", "not run"]
    notes = text.splitlines()
    assert (
        f"- 10K: {lines:,} lines = {messages:,} messages of 20 engineers in 75 files (8 MiB), 2025-01-01 to 2025-01-02."
        in notes
    )
    assert (
        f"- 10K check: the lake holds {messages:,} rows and {output:,} output tokens, the baseline {messages:,} and "
        f"{output:,} (equal); list cost 247.99 vs 247.99 USD (equal)." in notes
    )
    assert "- 10K ccusage: Node/npm not found on PATH (install Node, or set CCUSAGE to a ccusage 20.0.24)." in notes
    assert [t.split(":")[0] for t in _targets(text)] == [
        "- Speed (at 10M lines, <= 1.5x the baseline)",
        "- Memory growth (peak at 10M <= 1.3x the peak at 1M)",
        "- Memory at 100M lines (< 4 GiB)",
        "- Incremental nightly (<= 1.2x)",
        "- Large company (< 60 s)",
    ]
    assert not (tmp_path / "node").exists()  # nothing installed without npm


@pytest.mark.slow
def test_bench_zstd_and_the_warehouse_cases_at_a_tiny_size(tmp_path: Path) -> None:
    done = _bench(tmp_path, "--sizes", "10K", "--zstd", "--ccusage-sizes", "10K", "--history-engineers", "3",
                  "--company-engineers", "3", "--nightly-lines", "2000")  # fmt: skip
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "results.md").read_text()
    rows = _rows(text)
    assert list(rows) == [f"claude_code_logs 10K: {c}" for c in CASES] + [
        "incremental nightly, one new day: no history",
        "incremental nightly, one new day: a year of history",
        "large company 3 engineers: warehouse build",
    ]
    notes = text.splitlines()
    assert (
        "- 10K: 10,130 lines = 5,947 messages of 20 engineers in 75 files (1 MiB, zstd), 2025-01-01 to 2025-01-02."
        in notes
    )
    assert (
        "- 10K check: the lake holds 5,947 rows and 4,483,300 output tokens, the baseline 5,947 and 4,483,300 "
        "(equal); list cost 247.99 vs 247.99 USD (equal)." in notes
    )
    assert "- 10K ccusage: not run: ccusage reads .jsonl only." in notes
    assert rows["incremental nightly, one new day: no history"][0] == "2,077"
    assert rows["large company 3 engineers: warehouse build"][0] == "924"
    goals = _targets(text)
    assert goals[3].startswith("- Incremental nightly: one new day with a year of history (3 engineers) costs ")
    assert goals[4].startswith("- Large company (10,000 engineers, < 60 s): not measured, this run had 3 engineers (")


def test_bench_refuses_a_size_the_disk_cannot_hold(tmp_path: Path) -> None:
    done = _bench(tmp_path, "--sizes", "1M", free="1000000")
    assert done.returncode == 1
    said = r"bench: 1M needs about 2\.2 GB of disk in (.+) \(860 MB of plain session files\), 1 MB free"
    assert re.fullmatch(said, done.stderr.strip())
    assert re.fullmatch(said, done.stderr.strip())[1].startswith(str(tmp_path / "tokencomp-bench-"))  # type: ignore[index]
    assert not (tmp_path / "results.md").exists()


def test_compare_counts_disagreements_and_shows_one() -> None:
    day = {"input": 10, "output": 20, "cache_read": 30, "cache_write": 40, "cost": Decimal("1.004")}
    lake = {("a@x.com", "2025-01-01"): day, ("a@x.com", "2025-01-02"): day, ("b@x.com", "2025-01-01"): day}
    cc = {("a@x.com", "2025-01-01"): day, ("a@x.com", "2025-01-02"): {**day, "cache_write": 41, "cost": 1.02}}
    assert compare(cc, lake) == [
        "3 engineer-days (2 in ccusage, 3 in the lake); daily tokens agree on 1, DISAGREE on 2",
        "totals, ccusage vs the lake: input 20 vs 30; output 40 vs 60; cache_read 60 vs 90; cache_write 81 vs 120",
        "list cost agrees to the cent on 1 of 2 engineer-days, differs on 1 (largest $0.02)",
        "e.g. a@x.com 2025-01-02: ccusage input 10, output 20, cache_read 30, cache_write 41, $1.02; "
        "the lake input 10, output 20, cache_read 30, cache_write 40, $1.00",
    ]
    assert compare(lake, lake)[0] == "3 engineer-days; daily tokens agree on all 3 (every kind, exactly)"


def test_targets_read_met_and_missed_off_the_figures() -> None:
    from run import targets

    sizes = {"1M": {"ratio": 5.0, "peak": 1000.0}, "10M": {"ratio": 1.4, "peak": 1400.0}, "100M": {"peak": 4200.0}}
    assert targets(sizes, 1.25, 1_000, 59.0, 10_000) == [
        "- Speed: Claude Code logs → priced lake at 10M lines takes 1.40x the baseline statement (target <= 1.5, "
        "aim 1.2): **met**.",
        "- Memory growth: peak RSS of ingest + lake build at 10M lines 1,400 MiB vs 1,000 MiB at 1M = 1.40x "
        "(target <= 1.3): **missed**.",
        "- Memory at 100M lines: peak RSS of ingest + lake build 4,200 MiB vs 4 GiB (4,096 MiB): **missed**.",
        "- Incremental nightly: one new day with a year of history (1,000 engineers) costs 1.25x the same day with "
        "none (target <= 1.2): **missed**.",
        "- Large company: 10,000 engineers' warehouse rebuilt and published in 59.0 s (target < 60 s): **met**.",
    ]
