"""One request, reported the Anthropic way (input excludes cache) and the OpenAI way (input includes it),
gives the same canonical token columns, so no cache token is counted twice or missed."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.transforms.parser_kit import make_raw, write_json
from transforms.schema import TOKEN_COLUMNS
from transforms.sources import parser


def _anthropic(tmp: Path, uncached: int, read: int, write: int, out: int) -> dict[str, int]:
    body = {
        "has_more": False,
        "next_page": None,
        "data": [
            {
                "starting_at": "2026-03-02T00:00:00Z",
                "ending_at": "2026-03-03T00:00:00Z",
                "results": [
                    {
                        "uncached_input_tokens": uncached,
                        "cache_read_input_tokens": read,
                        "cache_creation": {"ephemeral_5m_input_tokens": write, "ephemeral_1h_input_tokens": 0},
                        "output_tokens": out,
                        "model": "m",
                        "api_key_id": "k",
                        "workspace_id": None,
                        "account_id": None,
                        "service_account_id": None,
                        "context_window": None,
                        "service_tier": None,
                        "inference_geo": None,
                    }
                ],
            }
        ],
    }
    path = write_json(tmp / "anthropic.json", body)
    row = parser("anthropic_usage")([make_raw(path, source="anthropic_usage")]).rows.row(0, named=True)
    return {c: row[c] for c in TOKEN_COLUMNS}


def _openai(tmp: Path, uncached: int, read: int, write: int, out: int) -> dict[str, int]:
    body = {
        "object": "page",
        "has_more": False,
        "next_page": None,
        "data": [
            {
                "object": "bucket",
                "start_time": 1772409600,
                "end_time": 1772496000,
                "results": [
                    {
                        "object": "organization.usage.completions.result",
                        "input_tokens": uncached + read + write,
                        "input_cached_tokens": read,
                        "input_cache_write_tokens": write,
                        "input_uncached_tokens": uncached,
                        "output_tokens": out,
                        "num_model_requests": 1,
                        "project_id": "p",
                        "user_id": None,
                        "api_key_id": "k",
                        "model": "m",
                        "batch": None,
                        "service_tier": None,
                    }
                ],
            }
        ],
    }
    path = write_json(tmp / "openai.json", body)
    row = parser("openai_usage")([make_raw(path, source="openai_usage")]).rows.row(0, named=True)
    return {c: row[c] for c in TOKEN_COLUMNS}


def test_the_documented_example_request(tmp_path: Path) -> None:
    # OpenAI's own example: input 1000 of which 400 cached and 100 cache writes, output 500
    expected = {
        "uncached_input_tokens": 500,
        "cache_read_tokens": 400,
        "cache_write_5m_tokens": 100,
        "cache_write_1h_tokens": 0,
        "output_tokens": 500,
    }
    assert _anthropic(tmp_path, 500, 400, 100, 500) == _openai(tmp_path, 500, 400, 100, 500) == expected


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10**9), st.integers(0, 10**9), st.integers(0, 10**8), st.integers(0, 10**7))
def test_any_request_has_the_same_canonical_tokens_either_way(
    tmp_path_factory: object, uncached: int, read: int, write: int, out: int
) -> None:
    tmp = tmp_path_factory.mktemp("conv")  # type: ignore[attr-defined]
    anthropic, openai = _anthropic(tmp, uncached, read, write, out), _openai(tmp, uncached, read, write, out)
    assert anthropic == openai
    assert sum(v for k, v in anthropic.items() if k != "output_tokens") == uncached + read + write
