"""Rules the test suite itself keeps (GUIDE): a test never asserts a duration; speed belongs in bench/."""

from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).parent

# Reading a clock in a test only ever serves a timed assertion, which fails on a busy machine.
CLOCKS = re.compile(r"\b(perf_counter(_ns)?|monotonic(_ns)?|process_time(_ns)?|time\.time(_ns)?|timeit)\b")


def test_no_test_reads_a_clock() -> None:
    offenders = [
        f"{path.relative_to(TESTS)}:{number}: {line.strip()}"
        for path in sorted(TESTS.rglob("*.py"))
        if path != Path(__file__)
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if CLOCKS.search(line)
    ]
    assert offenders == []
