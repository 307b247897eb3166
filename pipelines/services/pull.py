"""Pulled API pages → raw/, through the same ingest path a dropped file takes.

Every page of a window is fetched before anything is written, so a pull that fails (after retries, on a
refused key, on a repeating cursor) leaves raw/ and the manifest as they were. Each page is one
delivery: its bytes land as the API returned them, with the request that fetched it in the manifest.
The same bytes pulled twice are a duplicate and change nothing.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from pipelines.clients.http import Page
from pipelines.config import Settings
from pipelines.services.ingest import Outcome, ingest


def land_pages(settings: Settings, source: str, pages: Iterable[Page], start: date, end: date) -> list[Outcome]:
    """Fetch every page of one pull of `source` for start..end, then land each in raw/; one outcome per page."""
    fetched = list(pages)
    settings.scratch.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f"pull-{os.getpid()}-", dir=settings.scratch))
    try:
        outcomes: list[Outcome] = []
        for page in fetched:
            path = folder / f"{source}_{start}_{end}_page{page.number:03d}.json"
            path.write_bytes(page.body)
            outcomes += ingest(settings, source, [path], request=page.request)
        return outcomes
    finally:
        shutil.rmtree(folder, ignore_errors=True)
