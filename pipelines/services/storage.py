"""The two ways tokencomp writes its own state files: append-only JSONL logs and atomically replaced Parquet."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import polars as pl


def append_jsonl(path: Path, records: Iterable[dict[str, object]]) -> None:
    """Append records to an append-only log (manifest, rejects, quarantine, month events), one JSON a line.

    The whole batch goes out in one write, flushed and fsynced, so a crash leaves at most one torn last
    line; a log that ends in a torn line first gets a newline, so the new lines never glue onto it.
    """
    text = "".join(json.dumps(rec, default=str, sort_keys=True) + "\n" for rec in records)
    if not text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab") as fh:
        if fh.tell() > 0:
            with path.open("rb") as tail:
                tail.seek(-1, os.SEEK_END)
                if tail.read(1) != b"\n":
                    text = "\n" + text
        fh.write(text.encode("utf-8"))
        fh.flush()
        os.fsync(fh.fileno())


@dataclass(frozen=True)
class JsonlLog:
    """The readable lines of an append-only log, and the 1-based numbers of torn (unreadable) lines."""

    path: Path
    text: bytes
    torn: tuple[int, ...]

    def problems(self) -> list[str]:
        """One line per torn line, naming the file and the line, for the user."""
        return [f"{self.path}:{n}: torn line ignored (an interrupted write)" for n in self.torn]

    def frame(self, schema: pl.Schema | dict[str, pl.DataType]) -> pl.DataFrame:
        """The readable lines as a frame of `schema` (missing keys are nulls)."""
        if not self.text:
            return pl.Schema(schema).to_frame()
        return pl.read_ndjson(io.BytesIO(self.text), schema=schema)


def read_jsonl(path: Path) -> JsonlLog:
    """Read an append-only log tolerantly: a line that is not a JSON object is skipped and reported.

    Logs are small (one line per delivery or event), so each line is checked with `json.loads`.
    """
    if not path.exists():
        return JsonlLog(path, b"", ())
    good: list[bytes] = []
    torn: list[int] = []
    for number, line in enumerate(path.read_bytes().split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            ok = isinstance(json.loads(line), dict)
        except ValueError:
            ok = False
        if ok:
            good.append(line)
        else:
            torn.append(number)
    return JsonlLog(path, b"\n".join(good), tuple(torn))


def replace_parquet(frame: pl.DataFrame, target: Path) -> None:
    """Write `frame` to `target` so readers see the old file or the new one, never a partial write."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    frame.write_parquet(tmp)
    os.replace(tmp, target)
