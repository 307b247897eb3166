"""Property tests of the parsers' arithmetic: token splits, cents to dollars, streamed-line dedup."""

from __future__ import annotations

import json
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.transforms.parser_kit import make_raw, write_json, write_jsonl
from transforms.sources import parser

FAST = settings(max_examples=50, deadline=None)


@st.composite
def openai_counts(draw: st.DrawFn) -> tuple[int, int, int]:
    """(input, cached, cache write) with cached + cache write <= input, as the API reports them."""
    total = draw(st.integers(min_value=0, max_value=10**10))  # the documented maximum per field
    cached = draw(st.integers(min_value=0, max_value=total))
    write = draw(st.integers(min_value=0, max_value=total - cached))
    return total, cached, write


@FAST
@given(st.lists(openai_counts(), min_size=1, max_size=20))
def test_openai_input_total_is_preserved(counts: list[tuple[int, int, int]]) -> None:
    results = [
        {
            "object": "organization.usage.completions.result",
            "input_tokens": total,
            "input_cached_tokens": cached,
            "input_cache_write_tokens": write,
            "output_tokens": 1,
            "num_model_requests": 1,
            "user_id": f"user-{i}",
        }
        for i, (total, cached, write) in enumerate(counts)
    ]
    page = {"object": "page", "data": [{"start_time": 1772409600, "end_time": 1772496000, "results": results}]}
    with tempfile.TemporaryDirectory() as tmp:
        rows = parser("openai_usage")([make_raw(write_json(Path(tmp) / "u.json", page), source="openai_usage")]).rows
    got = rows.select(
        pl.col("principal_id").str.strip_prefix("user-").cast(pl.Int64).alias("i"),
        pl.sum_horizontal(
            "uncached_input_tokens", "cache_read_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens"
        ).alias("total"),
        pl.col("cache_read_tokens"),
        pl.col("cache_write_5m_tokens"),
    ).sort("i")
    assert got.rows() == [(i, total, cached, write) for i, (total, cached, write) in enumerate(counts)]


cent_strings = st.builds(
    lambda units, frac: f"{units}.{frac}" if frac else str(units),
    st.integers(min_value=0, max_value=10**11),
    st.text(alphabet="0123456789", max_size=6),
)


@FAST
@given(st.lists(cent_strings, min_size=1, max_size=20))
def test_anthropic_cents_convert_exactly(amounts: list[str]) -> None:
    results: list[dict[str, Any]] = [
        {"amount": amount, "currency": "USD", "description": str(i)} for i, amount in enumerate(amounts)
    ]
    page = {"data": [{"starting_at": "2026-03-02T00:00:00Z", "ending_at": "2026-03-03T00:00:00Z", "results": results}]}
    with tempfile.TemporaryDirectory() as tmp:
        raw = make_raw(write_json(Path(tmp) / "c.json", page), source="anthropic_cost")
        rows = parser("anthropic_cost")([raw]).rows
    got = dict(zip(rows["line_item"].cast(pl.Int64).to_list(), rows["billed_cost_usd"].to_list(), strict=True))
    assert got == {i: Decimal(amount) / 100 for i, amount in enumerate(amounts)}


@st.composite
def streamed_messages(draw: st.DrawFn) -> list[list[int]]:
    """Per message, the output_tokens of its streamed lines (non-decreasing, as Claude Code writes)."""
    n = draw(st.integers(min_value=1, max_value=6))
    return [
        sorted(draw(st.lists(st.integers(min_value=0, max_value=100_000), min_size=1, max_size=5))) for _ in range(n)
    ]


@FAST
@given(streamed_messages(), st.randoms(use_true_random=False))
def test_claude_code_streamed_lines_collapse_to_max(messages: list[list[int]], rnd: Any) -> None:
    lines: list[tuple[int, dict[str, Any]]] = []
    for m, outputs in enumerate(messages):
        for k, output in enumerate(outputs):
            usage = {"input_tokens": 3, "cache_read_input_tokens": 40 + m, "output_tokens": output}
            lines.append(
                (
                    rnd.randrange(2),  # which file (a session file or its subagent replay file)
                    {
                        "type": "assistant",
                        "timestamp": f"2026-03-02T10:{m:02d}:{k:02d}Z",
                        "requestId": f"req_{m}_{rnd.randrange(2)}",
                        "message": {"id": f"msg_{m}", "model": "claude-sonnet-4-5", "usage": usage},
                    },
                )
            )
    rnd.shuffle(lines)
    with tempfile.TemporaryDirectory() as tmp:
        files = [
            make_raw(
                write_jsonl(Path(tmp) / f"s{f}.jsonl", [json.dumps(line) for g, line in lines if g == f]),
                source="claude_code_logs",
                seq=f + 1,
                owner="dev@example.com",
            )
            for f in (0, 1)
        ]
        result = parser("claude_code_logs")(files)
    rows = result.rows
    assert rows.height == len(messages)
    got = {r["period_start"].minute: (r["output_tokens"], r["cache_read_tokens"]) for r in rows.to_dicts()}
    assert got == {m: (max(outputs), 40 + m) for m, outputs in enumerate(messages)}
    assert result.stats["loaded"].sum() == sum(len(o) for o in messages)
