"""Helpers for the source-parser tests: delivery handles over fixture files and page writers.

Imported by the tests in this folder as `tests.transforms.parser_kit`.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from transforms.common import RawFile

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "samples"
LANDED = datetime(2026, 3, 5, 6, 0, tzinfo=UTC)
LANDED_LATER = datetime(2026, 3, 6, 6, 0, tzinfo=UTC)


def sample(name: str) -> Path:
    """Path of a copied reference sample under tests/fixtures/samples."""
    path = SAMPLES / name
    assert path.is_file(), path
    return path


def make_raw(
    path: Path,
    *,
    source: str,
    seq: int = 1,
    landed_at: datetime = LANDED,
    owner: str | None = None,
    name: str | None = None,
) -> RawFile:
    """A delivery handle for a file as the manifest would describe it (sha256 of the bytes)."""
    return RawFile(
        path=path,
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        source=source,
        seq=seq,
        landed_at=landed_at,
        name=name or path.name,
        provenance={} if owner is None else {"owner": owner},
    )


def write_json(path: Path, body: Any) -> Path:
    """Write one API response body as the API would return it."""
    path.write_text(json.dumps(body, indent=2))
    return path


def write_jsonl(path: Path, lines: list[Any]) -> Path:
    """Write JSONL: dicts are serialised, strings are written verbatim (to make broken lines)."""
    text = "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines)
    path.write_text(text + "\n")
    return path


def non_null(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts of their non-null columns only, so a test pins exactly which columns are set."""
    return [{k: v for k, v in row.items() if v is not None} for row in frame.to_dicts()]
