"""Synthetic company generator behind `tokencomp demo`.

`generate` writes a whole fictional engineering organisation into the pipeline's `landing/` inbox:
the HR roster, identity aliases, shared-key members, scope → cost-centre map, Levels.fyi-style salary
submissions, and the provider exports (Anthropic usage and cost reports, OpenAI usage and costs, Claude
Code session logs) in the providers' real formats, one API response page per file. Beside `landing/` it
writes `demo/truth.json`: what the pipeline must find (billed and list totals, who spent what, alerts),
so end-to-end tests can assert exact figures.

The parts: `org` (people, roles, profiles) with `company` and `pay`; `simulation` and `claude_code` (the
day-by-day usage); `prices` (the project's price table); `writers` (one module per source and reference
kind, keyed by id); `truth`. Everything is driven by one `random.Random(seed)` and integer/decimal
arithmetic only (no libm functions, no clocks, no set or hash ordering), so the same (seed, end,
engineers, days) gives byte-identical files. Money is `Decimal` throughout; list prices are the pinned
genai-prices data in force on each UTC day of use, and billed amounts are list minus a known per-provider
discount.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from random import Random

from pipelines.demo.claude_code import ClaudeCode
from pipelines.demo.company import (
    ANTHROPIC_DISCOUNT,
    ANTHROPIC_MODELS,
    ANTHROPIC_TOKEN_TYPES,
    CW_BASE,
    CW_LONG,
    OPENAI_DISCOUNT,
    OPENAI_MODELS,
    TITLE_BY_LEVEL,
)
from pipelines.demo.formats import Ids, dec_text
from pipelines.demo.landing import Landing, ProgressFn, write_text
from pipelines.demo.org import Window, build_company
from pipelines.demo.prices import PriceBook
from pipelines.demo.simulation import Simulation, simulate_api
from pipelines.demo.truth import DemoTruth, build_truth
from pipelines.demo.writers import REFERENCE_WRITERS, SOURCE_WRITERS, World, write_sources
from pipelines.demo.writers.claude_code_logs import SessionFiles

__all__ = [
    "ANTHROPIC_DISCOUNT",
    "ANTHROPIC_MODELS",
    "ANTHROPIC_TOKEN_TYPES",
    "CW_BASE",
    "CW_LONG",
    "OPENAI_DISCOUNT",
    "OPENAI_MODELS",
    "REFERENCE_WRITERS",
    "SOURCE_WRITERS",
    "STAGE_UNITS",
    "TITLE_BY_LEVEL",
    "DemoTruth",
    "ProgressFn",
    "dec_text",
    "generate",
]

# What each progress stage of `generate` counts, for a display of its progress.
STAGE_UNITS: dict[str, str] = {
    "usage": "engineers",
    "claude_code_logs": "engineers",
    "anthropic_exports": "pages",
    "openai_exports": "pages",
}


def generate(
    out_dir: Path,
    *,
    engineers: int = 200,
    days: int = 90,
    end: date,
    seed: int = 7,
    company: str = "Acme Robotics",
    progress: ProgressFn | None = None,
) -> DemoTruth:
    """Write a synthetic company into the landing inbox `out_dir` and return its ground truth.

    The window is the `days` UTC days ending at `end` inclusive. Reference files (roster, aliases,
    route members, scopes, salaries) and provider exports (one API response page per file) land under
    `out_dir`; `truth.json` goes to `out_dir.parent / "demo"`. The same (seed, end, engineers, days,
    company) always produces byte-identical files. `progress(stage, done, total)` reports long stages.
    Files are (over)written in place: pass a fresh inbox to avoid mixing with an earlier demo.
    """
    if engineers < 1:
        raise ValueError("engineers must be at least 1")
    if days < 1:
        raise ValueError("days must be at least 1")

    def tick(stage: str, done: int, total: int) -> None:
        if progress is not None:
            progress(stage, done, total)

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    landing = Landing(out_dir)
    rng = Random(seed)
    ids = Ids(rng)
    tick("roster", 0, 1)
    org = build_company(rng, ids, name=company, engineers=engineers, window=Window.ending(end, days))
    for write_reference in REFERENCE_WRITERS.values():
        write_reference(org, landing)
    tick("roster", 1, 1)

    # The organisation above and the simulation here draw every random number, in this order; writers draw none.
    sim = Simulation(rng, ids, org, PriceBook())
    sessions = SessionFiles(landing)
    simulate_api(sim, progress)
    ClaudeCode(sim, sessions).simulate(progress)

    world = World(company=org, prices=sim.prices, usage=sim.usage, sessions=sessions)
    bills = write_sources(world, landing, progress)
    data = build_truth(world, landing, bills, seed)
    truth_path = out_dir.parent / "demo" / "truth.json"
    write_text(truth_path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    tick("truth", 1, 1)
    return DemoTruth(out_dir=out_dir, path=truth_path, data=data)
