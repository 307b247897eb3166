"""The CLI's progress display: one plain line per finished step off a terminal, a live bar on one."""

from __future__ import annotations

import io
import re

from rich.console import Console

from pipelines.progress import ProgressDisplay, ProgressEvent

EVENTS = [
    ProgressEvent("ingest openai_usage", "start"),
    ProgressEvent("ingest openai_usage", "advance", 0, 3, "files"),
    ProgressEvent("ingest openai_usage", "advance", 3, 3, "files", "3 landed; 120 lines loaded"),
    ProgressEvent("ingest openai_usage", "finish"),
    ProgressEvent("lake/usage", "start"),
    ProgressEvent("lake/usage", "advance", 31, 90, "days"),
    ProgressEvent("lake/usage", "advance", 90, 90, "days", "1,000 rows"),
    ProgressEvent("lake/usage", "finish"),
    ProgressEvent("warehouse", "start"),
    ProgressEvent("warehouse", "advance", 1, 13, "models"),
    ProgressEvent("warehouse", "fail"),
]


def _lines(text: str) -> list[str]:
    return [re.sub(r" \(\d+\.\ds\)$", " (…)", line) for line in text.splitlines() if line.startswith(("✓", "✗"))]


def test_off_a_terminal_each_finished_step_is_one_plain_line() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, width=80)
    with ProgressDisplay(console) as display:
        for event in EVENTS:
            display(event)
        display.stage("generate usage", 1, 1, "engineers")
    assert not display.live
    assert all(line.startswith(("✓", "✗")) for line in buffer.getvalue().splitlines())  # only finished lines
    assert _lines(buffer.getvalue()) == [
        "✓ ingest openai_usage: 3 files, 3 landed; 120 lines loaded (…)",
        "✓ lake/usage: 90 days, 1,000 rows (…)",
        "✗ warehouse: 1/13 models (…)",
        "✓ generate usage: 1 engineer (…)",
    ]


def test_on_a_terminal_the_same_lines_stay_after_the_live_bar() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, width=80, force_terminal=True, color_system=None)
    with ProgressDisplay(console) as display:
        for event in EVENTS:
            display(event)
    assert display.live
    text = re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", buffer.getvalue()).replace("\r", "\n")
    assert "✓ ingest openai_usage: 3 files, 3 landed; 120 lines loaded" in text
    assert "✓ lake/usage: 90 days, 1,000 rows" in text
    assert "✗ warehouse: 1/13 models" in text
