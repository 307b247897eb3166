"""Append-only logs survive a torn write; scratch of dead processes is swept, a live one's is kept."""

from __future__ import annotations

import json
import os
from pathlib import Path

import polars as pl

from pipelines.config import Settings
from pipelines.services.ingest import sweep_scratch
from pipelines.services.storage import append_jsonl, read_jsonl


def test_an_append_after_a_torn_line_starts_a_new_line_and_reading_skips_the_torn_one(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    append_jsonl(log, [{"a": 1}, {"a": 2}])
    with log.open("ab") as fh:
        fh.write(b'{"a": 3, "b"')  # a crash in the middle of a write
    append_jsonl(log, [{"a": 4}])
    assert log.read_bytes() == b'{"a": 1}\n{"a": 2}\n{"a": 3, "b"\n{"a": 4}\n'
    read = read_jsonl(log)
    assert read.torn == (3,)
    assert read.problems() == [f"{log}:3: torn line ignored (an interrupted write)"]
    assert read.frame({"a": pl.Int64})["a"].to_list() == [1, 2, 4]


def test_nothing_to_append_writes_nothing(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    append_jsonl(log, [])
    assert not log.exists()
    assert read_jsonl(log).frame({"a": pl.Int64}).height == 0


def test_scratch_of_a_dead_process_is_swept_and_a_live_ones_is_kept(settings: Settings) -> None:
    dead = settings.scratch / "inflate-999999999-x"
    live = settings.scratch / f"inflate-{os.getppid()}-y"
    other = settings.scratch / "notes"
    for folder in (dead, live, other):
        folder.mkdir(parents=True)
        (folder / "f").write_text(json.dumps({}))
    sweep_scratch(settings)
    assert sorted(p.name for p in settings.scratch.iterdir()) == sorted([live.name, other.name])
