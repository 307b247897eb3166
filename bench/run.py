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

Two warehouse cases follow (bench/company.py writes their lake and reference data directly):

- `incremental nightly`: one new day of Claude Code logs (ingest, lake build of its days, warehouse build and
  publish) on a data dir holding a year of history (a company of `--history-engineers` engineers, lake and
  published warehouse), against the same run on a data dir with the same reference data and no history,
  alternating; the ratio is the median of the pairs' (target: at most 1.2);
- `large company`: the whole warehouse of `--company-engineers` engineers over a year rebuilt and
  published (target: under 60 s on 2 cores).

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
# The warehouse cases' years: the company's, and the history before the new day (Claude Code logs start 2025-01-01).
YEAR_START, YEAR_END = "2025-01-01", "2025-12-31"
HISTORY_START, HISTORY_END = "2024-01-01", "2024-12-31"
CCUSAGE_HINT = "npm install -g ccusage@20.0.24 (or set CCUSAGE=path)"


@dataclass
class Run:
    """One child process: wall seconds, peak RSS in MiB and the JSON facts it printed."""

    wall: float
    rss_mib: float
    facts: dict[str, object]
    load: float = 0.0  # the machine's 1-minute load average, mean of the child's start and end
    cpu: float = 0.0  # the child's user + system CPU seconds (what the work costs whatever the load)


def child(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> Run:
    """Run `argv` in its own process and measure it (wall time, ru_maxrss of that child alone)."""
    t0, load0 = time.perf_counter(), os.getloadavg()[0]
    env = {"TOKENCOMP_PSEUDONYM_KEY": "bench-only-key", **(env or os.environ)}  # the analyst file is built too
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
    load = (load0 + os.getloadavg()[0]) / 2
    return Run(wall, usage.ru_maxrss / 1024, facts, load, usage.ru_utime + usage.ru_stime)


def loaded(host: str, runs: list[Run]) -> str:
    """The machine cell with the load the runs saw: the CPU is shared, ratios of alternating runs are what hold."""
    return f"{host}; load {statistics.mean(r.load for r in runs):.1f}"


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
        both = Run(ing.wall + lake.wall, max(ing.rss_mib, lake.rss_mib), lake.facts, (ing.load + lake.load) / 2)
        runs["ingest + lake build"].append(both)
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
                     f"{rss:,.0f}", ratio, loaded(host, runs[name])])  # fmt: skip
    if not os.environ.get("BENCH_KEEP"):
        shutil.rmtree(where)


def bench_company(label: str, engineers: int, work: Path, rows: list[list[str]], notes: list[str]) -> None:
    """The large-company case: write a year of a company's lake, then time the warehouse rebuild."""
    data = work / f"company-{label}"
    made = case("company", data, engineers, YEAR_START, YEAR_END, cwd=work)
    print(f"bench company {label}: wrote {made.facts['rows']:,} lake rows in {made.wall:.0f} s", flush=True)
    wh = case("warehouse", data, cwd=work)
    print(f"  warehouse build {wh.wall:.1f} s ({wh.rss_mib:.0f} MiB)", flush=True)
    lake_rows = int(made.facts["rows"])  # type: ignore[call-overload]
    rows.append([f"large company {label} engineers: warehouse build", f"{lake_rows:,}", f"{wh.wall:.1f}",
                 f"{lake_rows / wh.wall:,.0f}", f"{wh.rss_mib:,.0f}", "target < 60 s",
                 loaded(machine(), [wh])])  # fmt: skip
    notes.append(
        f"- large company: {engineers:,} engineers, {YEAR_START} to {YEAR_END}, {lake_rows:,} lake rows (Anthropic "
        f"usage per engineer, working day and model); the warehouse holds {wh.facts['rows']:,} core.fct_usage_daily "
        f"rows, {wh.facts['engineer_months']:,} mart.engineer_monthly rows and {wh.facts['spend_usd']} USD of "
        f"spend; rebuilt and published (analyst file included) in {wh.wall:.1f} s "
        f"({'meets' if wh.wall < 60 else 'misses'} the 60 s target) using {wh.cpu:.1f} s of CPU at a load of "
        f"{wh.load:.1f}: on two idle cores its wall time is at least {wh.cpu / 2:.1f} s."
    )
    if not os.environ.get("BENCH_KEEP"):
        shutil.rmtree(data)


def bench_incremental(engineers: int, repeat: int, work: Path, rows: list[list[str]], notes: list[str]) -> None:
    """The incremental nightly case: one new day on a year of history vs the same day on none."""
    history = work / "history"
    made = case("company", history, engineers, HISTORY_START, HISTORY_END, cwd=work)
    case("warehouse", history, cwd=work)
    landing = work / "new-day" / "claude_code_logs"
    day = write_corpus(landing, engineers=20, lines=20 * 1700, days=1)
    print(f"bench incremental: {made.facts['rows']:,} lake rows of history, a new day of {day.lines:,} lines",
          flush=True)  # fmt: skip
    pairs: list[tuple[Run, Run]] = []
    for i in range(repeat):
        empty = work / f"no-history-{i}"
        (empty / "reference").mkdir(parents=True)
        for f in (history / "reference").glob("*.parquet"):
            shutil.copy2(f, empty / "reference" / f.name)
        full = work / f"with-history-{i}"
        shutil.copytree(history, full)
        none = case("nightly", empty, landing, day.start, day.end, cwd=work)
        some = case("nightly", full, landing, day.start, day.end, cwd=work)
        pairs.append((none, some))
        print(f"  pair {i + 1}: no history {none.wall:.1f} s, with history {some.wall:.1f} s = "
              f"{some.wall / none.wall:.2f}x", flush=True)  # fmt: skip
        shutil.rmtree(empty)
        shutil.rmtree(full)
    ratio = statistics.median(b.wall / a.wall for a, b in pairs)
    host = machine()
    for name, which in (("no history", 0), ("a year of history", 1)):
        wall = statistics.median(p[which].wall for p in pairs)
        rss = max(p[which].rss_mib for p in pairs)
        shown = "1.00" if which == 0 else f"{ratio:.2f} (median of {len(pairs)}; target <= 1.2)"
        rows.append([f"incremental nightly, one new day: {name}", f"{day.lines:,}", f"{wall:.1f}",
                     f"{day.lines / wall:,.0f}", f"{rss:,.0f}", shown,
                     loaded(host, [p[which] for p in pairs])])  # fmt: skip
    notes.append(
        f"- incremental nightly: {day.lines:,} new lines ({day.messages:,} messages of 20 engineers, "
        f"{day.start}) ingested, built into the lake and the warehouse rebuilt and published; history = "
        f"{engineers:,} engineers' Anthropic usage from {HISTORY_START} to {HISTORY_END} "
        f"({made.facts['rows']:,} lake rows) with its published warehouse. The ratio is with history over "
        f"without; the ratio column of these two rows is against the no-history run, not the baseline statement."
    )
    if not os.environ.get("BENCH_KEEP"):
        shutil.rmtree(history)


def main() -> int:
    """Run the sizes asked for and write bench/results.md."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default=os.environ.get("SIZES", "1M,10M"), help="comma list of 1M, 10M, 100M ('' none)")
    ap.add_argument("--size", default=os.environ.get("SIZE", ""), help="add one size (SIZE=100M)")
    ap.add_argument("--repeat", type=int, default=int(os.environ.get("REPEAT", "3")))
    ap.add_argument("--out", type=Path, default=HERE / "results.md")
    ap.add_argument("--ccusage-sizes", default="100K,1M", help="sizes ccusage also runs on (it is slow)")
    ap.add_argument("--company-engineers", type=int, default=10_000, help="large company case (0: skip it)")
    ap.add_argument("--history-engineers", type=int, default=1_000, help="incremental case's history (0: skip)")
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
        if a.history_engineers:
            bench_incremental(a.history_engineers, a.repeat, Path(tmp), rows, notes)
        if a.company_engineers:
            bench_company(f"{a.company_engineers:,}", a.company_engineers, Path(tmp), rows, notes)
    head = ["case", "rows", "wall s", "rows/s", "peak RSS MiB", "ratio to baseline", "machine"]
    table = [f"| {' | '.join(head)} |", f"| {' | '.join('---' for _ in head)} |"]
    table += [f"| {' | '.join(r)} |" for r in rows]
    a.out.write_text(
        "# Benchmark results\n\nWritten by `make bench` (bench/run.py). Ratio: wall time over the single DuckDB "
        "statement's (bench/baseline.sql) on the same files; for `ingest + lake build` the median of the "
        "alternating pairs. Peak RSS is each child process's own. The machine is shared: its cell gives the "
        "1-minute load average the runs saw (2 cores: a load of 2 is a full machine), so compare ratios of runs "
        "taken side by side rather than seconds.\n\n" + "\n".join(table) + "\n\n" + "\n".join(notes) + "\n"
    )
    print(a.out.read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
