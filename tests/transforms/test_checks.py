"""transforms.checks: negative token counts found in pages as delivered (gzip too), and row counts against the
median of the same weekday, each compared with a plain-Python count."""

from __future__ import annotations

import gzip
import json
import statistics
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.checks import negative_token_fields, row_count_anomalies
from transforms.common import RawFile

FAST = settings(max_examples=40, deadline=None)
AT = datetime(2025, 8, 1, tzinfo=UTC)


def _raw(path: Path, name: str) -> RawFile:
    return RawFile(path, f"{name:0>64}"[:64], "anthropic_usage", 1, AT, name)


@FAST
@given(
    counts=st.lists(
        st.tuples(st.integers(-(10**10), 10**10), st.integers(-(10**6), 10**6), st.booleans()), min_size=1, max_size=8
    )
)
def test_every_negative_token_count_is_found_with_its_line_and_field(counts: list[tuple[int, int, bool]]) -> None:
    page = {
        "data": [
            {
                "starting_at": "2025-08-01T00:00:00Z",
                "results": [
                    {"output_tokens": out, "cache_creation": {"ephemeral_5m_input_tokens": cache}, "requests": -1}
                    for out, cache, _ in counts
                ],
            }
        ]
    }
    pretty = any(p for _, _, p in counts)
    text = json.dumps(page, indent=2 if pretty else None)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "page.json"
        path.write_text(text)
        found = negative_token_fields([_raw(path, "page.json")])
    # by hand: every negative value of a key naming tokens (never `requests`), on its line of the text
    expected = [
        (number, field, str(value))
        for number, line in enumerate(text.splitlines(), start=1)
        for field in ("output_tokens", "ephemeral_5m_input_tokens")
        for part in line.split(f'"{field}": ')[1:]
        if (value := int(part.split(",")[0].split("}")[0])) < 0
    ]
    assert sorted(found.select("line", "field", "value").rows()) == sorted(expected)


def test_a_gzip_page_is_read_inflated(tmp_path: Path) -> None:
    path = tmp_path / "page.json.gz"
    path.write_bytes(gzip.compress(json.dumps({"data": [{"results": [{"output_tokens": -7}]}]}).encode()))
    assert negative_token_fields([_raw(path, "page.json.gz")]).select("file", "line", "field", "value").rows() == [
        ("page.json.gz", 1, "output_tokens", "-7")
    ]


@FAST
@given(history=st.lists(st.integers(1, 1000), min_size=0, max_size=5), today=st.integers(0, 2000))
def test_a_day_is_an_anomaly_exactly_when_it_is_off_the_median_of_its_weekday(history: list[int], today: int) -> None:
    day = date(2025, 9, 5)
    weeks = [day - timedelta(weeks=k + 1) for k in range(len(history))]
    noise = [(w + timedelta(days=1), 10_000) for w in weeks]  # other weekdays never count
    rows = [(w, n) for w, n in zip(weeks, history, strict=True)] + noise + ([(day, today)] if today else [])
    counts = pl.DataFrame(
        {"source": ["s"] * len(rows), "billing_date": [d for d, _ in rows], "rows": [n for _, n in rows]},
        schema={"source": pl.String, "billing_date": pl.Date, "rows": pl.Int64},
    )
    found = row_count_anomalies(counts, day, day, 5, 0.5)
    median = statistics.median(history) if len(history) >= 2 else None
    anomaly = median is not None and not (median * 0.5 <= today <= median * 1.5)
    assert found.height == (1 if anomaly else 0)
