"""`make bench`: the pipeline against a hand-written single DuckDB statement, on the same files, alternating.

For each size (default 1M and 10M lines; `SIZE=100M` adds 100M lines as zstd session files) it writes
Claude Code session logs (bench/generate.py), then runs, each case in its own process (peak RSS is the
child's own, from `os.wait4`):

- `baseline`: bench/baseline.sql, one statement: parse, dedup by (engineer, message.id), price, Parquet by day;
- `raw copy`: copy every file hashing as it goes (ingest's copy, alone);
- `ingest`: `tokencomp ingest claude_code_logs` (copy + validate every line, manifest);
- `lake build`: raw + manifest → priced lake partitions;
- `ingest + lake build`: the two together, Claude Code logs → priced lake, the figure the target is on;
- `warehouse build`: the whole warehouse from that lake, published;
- `ccusage`: `ccusage daily --json --offline -z UTC`, one engineer at a time, when Node's ccusage is found.

Baseline and pipeline alternate `--repeat` times; the ratio is the median of the pairs' ratios. Rows are
lines read (ingest, copy, baseline) or canonical rows (lake, warehouse). Writes bench/results.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import Corpus, write_corpus

HERE = Path(__file__).resolve().parent
SIZES = {"100K": 100_000, "1M": 1_000_000, "3M": 3_000_000, "10M": 10_000_000, "100M": 100_000_000}
CCUSAGE_HINT = "npm install -g ccusage@20.0.24 (or set CCUSAGE=path)"


@dataclass
class Run:
    """One child process: wall seconds, peak RSS in MiB and the JSON facts it printed."""

    wall: float
    rss_mib: float
    facts: dict[str, object]


def child(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> Run:
    """Run `argv` in its own process and measure it (wall time, ru_maxrss of that child alone)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, env=env)
    out = proc.stdout.read() if proc.stdout else b""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"bench: {' '.join(argv[:4])} failed with exit {proc.returncode}")
    text = out.decode().strip()
    try:
        facts = json.loads(text) if text else {}
    except json.JSONDecodeError:  # progress lines before the JSON
        facts = json.loads(text.splitlines()[-1])
    return Run(wall, usage.ru_maxrss / 1024, facts)


def case(name: str, *args: object, cwd: Path) -> Run:
    """One bench/case.py case in a child Python."""
    return child([sys.executable, str(HERE / "case.py"), name, *map(str, args)], cwd)


def machine() -> str:
    """A short name for this machine: CPU model, cores, RAM."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{model}, {os.cpu_count()} cores, {ram:.0f} GiB"


def ccusage_binary() -> str | None:
    """ccusage on PATH, or $CCUSAGE, or None."""
    return os.environ.get("CCUSAGE") or shutil.which("ccusage")


def run_ccusage(binary: str, corpus: Corpus, cwd: Path) -> tuple[Run, dict[tuple[str, str], int]]:
    """ccusage on every engineer's folder, one at a time: total time, max RSS, tokens per (engineer, day)."""
    wall, rss, tokens = 0.0, 0.0, {}
    for owner in sorted(p.name for p in Path(corpus.root).iterdir()):
        env = {**os.environ, "CLAUDE_CONFIG_DIR": str(Path(corpus.root) / owner)}
        r = child([binary, "claude", "daily", "--json", "--offline", "-z", "UTC"], cwd, env)
        wall, rss = wall + r.wall, max(rss, r.rss_mib)
        days = r.facts.get("daily", r.facts) if isinstance(r.facts, dict) else r.facts
        for d in days or []:
            total = sum(
                int(d.get(k, 0)) for k in ("inputTokens", "outputTokens", "cacheCreationTokens", "cacheReadTokens")
            )
            tokens[(owner, str(d.get("date") or d.get("period")))] = total
    return Run(wall, rss, {}), tokens


def lake_tokens(data: Path) -> dict[tuple[str, str], int]:
    """Tokens per (engineer, UTC day) in the pipeline's lake, for the ccusage comparison."""
    frame = pl.scan_parquet(str(data / "lake" / "usage" / "*" / "*.parquet"), hive_partitioning=True)
    kinds = ["uncached_input_tokens", "cache_read_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens",
             "output_tokens"]  # fmt: skip
    daily = frame.group_by("principal_id", "usage_date").agg(pl.sum_horizontal(kinds).sum().alias("tokens")).collect()
    return {(r[0], str(r[1])): int(r[2]) for r in daily.iter_rows()}


def bench_size(
    label: str, lines: int, repeat: int, work: Path, rows: list[list[str]], notes: list[str], ccusage_sizes: list[str]
) -> None:
    """Generate one corpus, run every case on it, append table rows and notes."""
    where = work / label
    landing = where / "landing" / "claude_code_logs"
    t0 = time.perf_counter()
    facts = where / "corpus.json"  # a corpus left by an interrupted run (BENCH_DIR kept) is reused
    if facts.exists():
        corpus = Corpus(**json.loads(facts.read_text()))
    else:
        corpus = write_corpus(landing, lines, compress=label == "100M")
        facts.write_text(json.dumps(corpus.as_dict()))
    print(f"bench {label}: wrote {corpus.lines:,} lines, {corpus.messages:,} messages, {corpus.files:,} files, "
          f"{corpus.bytes / 2**20:,.0f} MiB in {time.perf_counter() - t0:.0f} s", flush=True)  # fmt: skip
    notes.append(
        f"- {label}: {corpus.lines:,} lines = {corpus.messages:,} messages of {corpus.engineers} engineers in "
        f"{corpus.files:,} files ({corpus.bytes / 2**20:,.0f} MiB{', zstd' if label == '100M' else ''}), "
        f"{corpus.start} to {corpus.end}."
    )
    suffix = "*.jsonl.zst" if label == "100M" else "*.jsonl"
    files_glob = str(landing / "*" / "projects" / "*" / suffix)
    runs: dict[str, list[Run]] = defaultdict(list)
    ratios: list[float] = []
    for i in range(repeat):
        out = where / f"baseline-{i}"
        runs["baseline"].append(base := case("baseline", files_glob, out, cwd=where))
        shutil.rmtree(out)
        data = where / f"data-{i}"
        ing = case("ingest", data, landing, cwd=where)
        lake = case("lake", data, corpus.start, corpus.end, cwd=where)
        runs["ingest"].append(ing)
        runs["lake build"].append(lake)
        runs["ingest + lake build"].append(Run(ing.wall + lake.wall, max(ing.rss_mib, lake.rss_mib), lake.facts))
        ratios.append((ing.wall + lake.wall) / base.wall)
        print(f"  pair {i + 1}: baseline {base.wall:.1f} s ({base.rss_mib:.0f} MiB), ingest {ing.wall:.1f} s "
              f"({ing.rss_mib:.0f} MiB) + lake {lake.wall:.1f} s ({lake.rss_mib:.0f} MiB) = {ratios[-1]:.2f}x",
              flush=True)  # fmt: skip
        if i == repeat - 1:
            runs["warehouse build"].append(case("warehouse", data, cwd=where))
            copied = where / "copy"
            runs["raw copy"].append(case("copy", landing, copied, cwd=where))
            shutil.rmtree(copied)
            ours, theirs = lake.facts, base.facts
            same = (ours["messages"], ours["output_tokens"]) == (theirs["messages"], theirs["output_tokens"])
            cost = (Decimal(str(ours["list_cost_usd"])), Decimal(str(theirs["list_cost_usd"])))
            notes.append(
                f"- {label} check: the lake holds {ours['messages']:,} rows and {ours['output_tokens']:,} output "
                f"tokens, the baseline {theirs['messages']:,} and {theirs['output_tokens']:,} "
                f"({'equal' if same else 'DIFFERENT'}); list cost {cost[0]:.2f} vs {cost[1]:.2f} USD "
                f"({'equal' if cost[0] == cost[1] else 'differs by ' + format(cost[0] - cost[1], '.6f')})."
            )
            binary = ccusage_binary() if label in ccusage_sizes else None
            if binary:
                cc, cc_tokens = run_ccusage(binary, corpus, where)
                runs["ccusage"].append(cc)
                ours_tokens = lake_tokens(data)
                differ = sorted(k for k in set(cc_tokens) | set(ours_tokens) if cc_tokens.get(k) != ours_tokens.get(k))
                notes.append(
                    f"- {label} ccusage: {len(ours_tokens)} engineer-days; daily token totals agree on "
                    f"{len(ours_tokens) - len(differ)}, differ on {len(differ)} (ccusage {sum(cc_tokens.values()):,} "
                    f"tokens, the lake {sum(ours_tokens.values()):,}); ccusage took {cc.wall:.0f} s (one process per "
                    f"engineer, one after another), {cc.wall / (ing.wall + lake.wall):.2f}x the pipeline's ingest + "
                    f"lake build of the same pair ({ing.wall + lake.wall:.0f} s)."
                )
            elif label not in ccusage_sizes:
                notes.append(f"- {label} ccusage: not run at this size (`--ccusage-sizes`, default 100K,1M).")
            else:
                notes.append(f"- {label} ccusage: not run, no ccusage found ({CCUSAGE_HINT}).")
        shutil.rmtree(data)
    host = machine()
    median_base = statistics.median(r.wall for r in runs["baseline"])
    for name in ("baseline", "raw copy", "ingest", "lake build", "ingest + lake build", "warehouse build", "ccusage"):
        if name not in runs:
            if name == "ccusage":
                rows.append([f"claude_code_logs {label}: ccusage", "", "not run", "", "", "(see notes)", host])
            continue
        wall = statistics.median(r.wall for r in runs[name])
        rss = max(r.rss_mib for r in runs[name])
        count = (
            int(runs[name][-1].facts.get("rows", 0) or 0) if name in ("lake build", "warehouse build") else corpus.lines
        )
        if name == "ingest + lake build":
            ratio = f"{statistics.median(ratios):.2f} (median of {len(ratios)})"
        elif name == "baseline":
            ratio = "1.00"
        else:
            ratio = f"{wall / median_base:.2f}"
        rows.append([f"claude_code_logs {label}: {name}", f"{count:,}", f"{wall:.1f}", f"{count / wall:,.0f}",
                     f"{rss:,.0f}", ratio, host])  # fmt: skip
    if not os.environ.get("BENCH_KEEP"):
        shutil.rmtree(where)


def main() -> int:
    """Run the sizes asked for and write bench/results.md."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default=os.environ.get("SIZES", "1M,10M"), help="comma list of 1M, 10M, 100M")
    ap.add_argument("--size", default=os.environ.get("SIZE", ""), help="add one size (SIZE=100M)")
    ap.add_argument("--repeat", type=int, default=int(os.environ.get("REPEAT", "3")))
    ap.add_argument("--out", type=Path, default=HERE / "results.md")
    ap.add_argument("--ccusage-sizes", default="100K,1M", help="sizes ccusage also runs on (it is slow)")
    a = ap.parse_args()
    labels = [s for s in a.sizes.split(",") if s] + ([a.size] if a.size and a.size not in a.sizes else [])
    rows: list[list[str]] = []
    notes: list[str] = []
    keep = os.environ.get("BENCH_KEEP")  # a folder to work in and keep (its corpora are reused)
    with tempfile.TemporaryDirectory(prefix="tokencomp-bench-", dir=os.environ.get("BENCH_DIR")) as scratch:
        tmp = keep or scratch
        for label in labels:
            repeat = a.repeat if SIZES[label] <= 1_000_000 else 1
            bench_size(label, SIZES[label], repeat, Path(tmp), rows, notes, a.ccusage_sizes.split(","))
    head = ["case", "rows", "wall s", "rows/s", "peak RSS MiB", "ratio to baseline", "machine"]
    table = [f"| {' | '.join(head)} |", f"| {' | '.join('---' for _ in head)} |"]
    table += [f"| {' | '.join(r)} |" for r in rows]
    a.out.write_text(
        "# Benchmark results\n\nWritten by `make bench` (bench/run.py). Ratio: wall time over the single DuckDB "
        "statement's (bench/baseline.sql) on the same files; for `ingest + lake build` the median of the "
        "alternating pairs. Peak RSS is each child process's own.\n\n"
        + "\n".join(table)
        + "\n\n"
        + "\n".join(notes)
        + "\n"
    )
    print(a.out.read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
