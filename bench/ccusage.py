"""ccusage (npm `ccusage`, a single-machine Claude Code log reader) beside the pipeline, on the same folder.

`find()` gives the pinned ccusage: `$CCUSAGE` when set, else bench/.node's (installed there with
`npm install --prefix bench/.node ccusage@20.0.24` on first use when Node and npm are on PATH; `$NPM`
names another npm). `run()` runs `ccusage claude daily --json --offline -z UTC` one engineer at a time
(`CLAUDE_CONFIG_DIR=<root>/<email>`: ccusage reads `$CLAUDE_CONFIG_DIR/projects/<project>/<session>.jsonl`)
and `compare()` checks its daily tokens and cost against the lake's per (engineer, UTC day), kind by kind.

ccusage's kinds are the lake's: `inputTokens` = uncached input (`usage.input_tokens`), `outputTokens`,
`cacheReadTokens` (`cache_read_input_tokens`) and `cacheCreationTokens` (`cache_creation_input_tokens`,
the 5-minute and 1-hour cache writes together). Like the lake, ccusage counts a message once by its
`message.id` (the streamed lines and a sidechain's replay included).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import polars as pl
from measure import Run

VERSION = "20.0.24"
NODE_DIR = Path(__file__).resolve().parent / ".node"
KINDS = ("input", "output", "cache_read", "cache_write")  # ccusage's four token kinds, in the lake's terms
_CC_FIELDS = {"input": "inputTokens", "output": "outputTokens", "cache_read": "cacheReadTokens",
              "cache_write": "cacheCreationTokens"}  # fmt: skip
Day = tuple[str, str]  # (engineer folder, UTC day)


def _installed(node_dir: Path) -> str | None:
    manifest = node_dir / "node_modules" / "ccusage" / "package.json"
    binary = node_dir / "node_modules" / ".bin" / "ccusage"
    if binary.exists() and manifest.exists() and json.loads(manifest.read_text()).get("version") == VERSION:
        return str(binary)
    return None


def find(node_dir: Path = NODE_DIR) -> tuple[str | None, str]:
    """(the ccusage command, '') or (None, why it is not run): `$CCUSAGE`, bench/.node's, or installed there."""
    if os.environ.get("CCUSAGE"):
        return os.environ["CCUSAGE"], ""
    if found := _installed(node_dir):
        return found, ""
    npm = shutil.which(os.environ.get("NPM", "npm"))
    if not npm or not shutil.which("node"):
        return None, f"Node/npm not found on PATH (install Node, or set CCUSAGE to a ccusage {VERSION})"
    print(f"bench: installing ccusage@{VERSION} into {node_dir} (npm)", flush=True)
    node_dir.mkdir(parents=True, exist_ok=True)
    argv = [npm, "install", "--prefix", str(node_dir), "--no-audit", "--no-fund", f"ccusage@{VERSION}"]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0 or not (found := _installed(node_dir)):
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return None, f"`npm install ccusage@{VERSION}` failed (exit {done.returncode}: {last})"
    return found, ""


def version(binary: str) -> str:
    """What `ccusage --version` says (`ccusage 20.0.24`), or why it said nothing."""
    done = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False)
    return done.stdout.strip() or f"{binary} (no version: exit {done.returncode})"


def run(binary: str, root: Path, cwd: Path, measure: Callable[..., Run]) -> tuple[Run, dict[Day, dict[str, object]]]:
    """ccusage on every engineer's folder, one after another: summed wall time, max RSS, its days' figures."""
    wall, rss, cpu, loads, days = 0.0, 0.0, 0.0, [], {}
    for owner in sorted(p.name for p in root.iterdir() if p.is_dir()):
        env = {**os.environ, "CLAUDE_CONFIG_DIR": str(root / owner)}
        r = measure([binary, "claude", "daily", "--json", "--offline", "-z", "UTC"], cwd, env)
        wall, rss, cpu = wall + r.wall, max(rss, r.rss_mib), cpu + r.cpu
        loads.append(r.load)
        for d in r.facts.get("daily", []):  # type: ignore[union-attr]
            figures: dict[str, object] = {k: int(d[f]) for k, f in _CC_FIELDS.items()}
            figures["cost"] = Decimal(repr(d["totalCost"]))  # ccusage sums float dollars
            days[(owner, d["date"])] = figures
    return Run(wall, rss, {}, sum(loads) / max(1, len(loads)), cpu), days


def lake_days(lake: Path) -> dict[Day, dict[str, object]]:
    """The lake's figures per (engineer, UTC billing day) in ccusage's four kinds, with the list cost."""
    frame = pl.scan_parquet(str(lake / "*" / "*.parquet"), hive_partitioning=True)
    daily = frame.group_by("principal_id", "billing_date").agg(
        pl.col("uncached_input_tokens").sum().alias("input"),
        pl.col("output_tokens").sum().alias("output"),
        pl.col("cache_read_tokens").sum().alias("cache_read"),
        (pl.col("cache_write_5m_tokens") + pl.col("cache_write_1h_tokens")).sum().alias("cache_write"),
        pl.col("list_cost_usd").sum().alias("cost"),
    )
    return {(r["principal_id"], str(r["billing_date"])): r for r in daily.collect().iter_rows(named=True)}


def _show(figures: dict[str, object] | None) -> str:
    if figures is None:
        return "no such day"
    return ", ".join(f"{k} {figures[k]:,}" for k in KINDS) + f", ${Decimal(str(figures['cost'])):.2f}"


def compare(cc: dict[Day, dict[str, object]], lake: dict[Day, dict[str, object]]) -> list[str]:
    """What agrees and what does not, per (engineer, UTC day): token kinds exactly, list cost to the cent."""
    keys = sorted(set(cc) | set(lake))
    tokens_differ = [k for k in keys if k not in cc or k not in lake or any(cc[k][n] != lake[k][n] for n in KINDS)]
    cents = {k: (round(Decimal(str(cc[k]["cost"])), 2), round(Decimal(str(lake[k]["cost"])), 2))
             for k in keys if k in cc and k in lake}  # fmt: skip
    cost_differ = [k for k, (a, b) in cents.items() if a != b]
    totals = {n: (sum(int(d[n]) for d in cc.values()), sum(int(d[n]) for d in lake.values())) for n in KINDS}  # type: ignore[call-overload]
    lines = [
        f"{len(keys)} engineer-days ({len(cc)} in ccusage, {len(lake)} in the lake); daily tokens agree on "
        f"{len(keys) - len(tokens_differ)}, DISAGREE on {len(tokens_differ)}"
        if tokens_differ
        else f"{len(keys)} engineer-days; daily tokens agree on all {len(keys)} (every kind, exactly)",
        "totals, ccusage vs the lake: " + "; ".join(f"{n} {a:,} vs {b:,}" for n, (a, b) in totals.items()),
        f"list cost agrees to the cent on {len(cents) - len(cost_differ)} of {len(cents)} engineer-days"
        + (
            f", differs on {len(cost_differ)} (largest ${max(abs(a - b) for a, b in cents.values()):.2f})"
            if cost_differ
            else ""
        ),
    ]
    for k in (tokens_differ or cost_differ)[:1]:
        lines.append(f"e.g. {k[0]} {k[1]}: ccusage {_show(cc.get(k))}; the lake {_show(lake.get(k))}")
    return lines
