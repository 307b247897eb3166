"""The shared readers, one per file format: a source's spec names its format, its mapping SQL does the rest."""

from __future__ import annotations

from collections.abc import Sequence

from transforms.common import ParseResult, RawFile
from transforms.sources._readers import columnar, jsonl, pages
from transforms.sources._registry import SourceSpec

_READERS = {"pages": pages.read, "jsonl": jsonl.read, "csv": columnar.read, "parquet": columnar.read}


def read(spec: SourceSpec, files: Sequence[RawFile]) -> ParseResult:
    """Parse one source's deliveries with its format's reader and its mapping (no deliveries: no rows)."""
    if not files:
        return ParseResult.empty()
    return _READERS[spec.format](spec, files)


def check(spec: SourceSpec, files: Sequence[RawFile]) -> ParseResult:
    """What accepting deliveries needs: rejects and per-file stats as `read` gives them, and rows that may
    carry only their billing date and lineage (a line reader then skips building the rest)."""
    if not files:
        return ParseResult.empty()
    if spec.format == "jsonl":
        return jsonl.read(spec, files, dates_only=True)
    return read(spec, files)
