"""How the bench measures a case: its own child process, wall time, peak RSS (ru_maxrss), CPU, machine load."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Run:
    """One child process: wall seconds, peak RSS in MiB and the JSON facts it printed."""

    wall: float
    rss_mib: float
    facts: dict[str, object]
    load: float = 0.0  # the machine's 1-minute load average, mean of the child's start and end
    cpu: float = 0.0  # the child's user + system CPU seconds (what the work costs whatever the load)


def child(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> Run:
    """Run `argv` in its own process and measure it (wall time, ru_maxrss of that child and what it waited for)."""
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
