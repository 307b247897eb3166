"""The landing inbox a demo writes into, the file and row counts its truth reports, and progress reporting."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pipelines.demo.formats import dumps

ProgressFn = Callable[[str, int, int], None]
"""Progress callback: (stage name, units done, units total)."""


def write_text(path: Path, text: str) -> None:
    """Write UTF-8 text with LF line ends, creating parent folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)


class Landing:
    """`landing/` of one demo run: writes each file once and counts files and rows per source or kind."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files = 0
        self.rows: dict[str, int] = {}

    def text(self, rel: str, text: str) -> None:
        """Write one file at `rel` under the inbox."""
        write_text(self.root / rel, text)
        self.files += 1

    def csv(self, rel: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
        """Write one reference CSV; its rows count under the folder name (the reference kind)."""
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        self.text(rel, buf.getvalue())
        self.rows[rel.split("/")[0]] = len(rows)

    def pages(self, source: str, stem: str, pages: list[dict[str, Any]]) -> None:
        """Write API response pages as `<source>/<stem>_0001.json`, … (one JSON body per file)."""
        for i, page in enumerate(pages, start=1):
            self.text(f"{source}/{stem}_{i:04d}.json", dumps(page) + "\n")
