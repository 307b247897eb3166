"""The two ways tokencomp writes its own state files: append-only JSONL logs and atomically replaced Parquet."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

import polars as pl


def append_jsonl(path: Path, records: Iterable[dict[str, object]]) -> None:
    """Append records to an append-only log (manifest, rejects, quarantine, month events), one JSON a line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec, default=str, sort_keys=True) + "\n")


def replace_parquet(frame: pl.DataFrame, target: Path) -> None:
    """Write `frame` to `target` so readers see the old file or the new one, never a partial write."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    frame.write_parquet(tmp)
    os.replace(tmp, target)
