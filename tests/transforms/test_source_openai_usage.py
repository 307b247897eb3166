"""openai_usage: completions usage pages → canonical token rows (input split without overlap)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from tests.transforms.parser_kit import LANDED, make_raw, non_null, sample, write_json
from transforms.schema import USAGE_SCHEMA
from transforms.sources import parser

SRC = "openai_usage"


def test_verbatim_docs_example() -> None:
    raw = make_raw(sample("openai_usage_completions_example.json"), source=SRC)
    result = parser("openai_usage")([raw])

    assert result.rows.schema == USAGE_SCHEMA
    (row,) = non_null(result.rows)
    assert len(row.pop("record_id")) == 64
    assert row == {
        "billing_date": date(2024, 11, 1),
        "period_start": datetime(2024, 11, 1, tzinfo=UTC),
        "period_end": datetime(2024, 11, 2, tzinfo=UTC),
        "source": "openai_usage",
        "provider": "openai",
        "publisher": "openai",
        "scope_kind": "project",
        "scope_id": "default",
        "uncached_input_tokens": 500,
        "cache_read_tokens": 400,
        "cache_write_5m_tokens": 100,
        "cache_write_1h_tokens": 0,
        "output_tokens": 500,
        "requests": 5,
        "billing_model": "metered_tokens",
        "charge_category": "usage",
        "raw_sha256": raw.sha256,
        "ingested_at": LANDED,
    }
    assert result.stats.select("parsed", "loaded", "rejected").row(0) == (1, 1, 0)


def test_grouped_example() -> None:
    raw = make_raw(sample("openai_usage_completions_grouped_example.json"), source=SRC)
    result = parser("openai_usage")([raw])

    got = result.rows.sort("scope_id", "principal_id", "model_raw", nulls_last=True).select(
        "scope_id",
        "principal_kind",
        "principal_id",
        "model_raw",
        "uncached_input_tokens",
        "cache_read_tokens",
        "cache_write_5m_tokens",
        "output_tokens",
        "requests",
    )
    assert got.rows() == [
        ("proj_Q2m9x1", "openai_user_id", "user-abc123XyZ", "gpt-5-2025-08-07", 641857, 1201344, 0, 90211, 412),
        ("proj_Q2m9x1", "openai_user_id", "user-abc123XyZ", "gpt-5-mini-2025-08-07", 220134, 0, 0, 30121, 88),
        ("proj_Q2m9x1", "openai_user_id", "user-def456UvW", "gpt-4.1-2025-04-14", 30523, 20480, 0, 7003, 31),
        ("proj_Svc77k", None, None, "gpt-5-2025-08-07", 3020011, 6100022, 0, 410233, 2011),
    ]
    # 1843201 − 1201344 − 0 = 641857: the input total is preserved, never double counted
    assert result.rows["billing_date"].unique().to_list() == [date(2026, 3, 2)]
    assert result.stats.select("parsed", "loaded", "rejected", "min_date", "max_date").row(0) == (
        4,
        4,
        0,
        date(2026, 3, 2),
        date(2026, 3, 2),
    )


def _result(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "object": "organization.usage.completions.result",
        "input_tokens": 100,
        "output_tokens": 10,
        "num_model_requests": 1,
        "project_id": "proj_1",
        "user_id": None,
        "api_key_id": None,
        "model": "gpt-5",
        "batch": None,
        "service_tier": None,
    }
    return base | fields


def _page(*results: dict[str, object]) -> dict[str, object]:
    return {
        "object": "page",
        "data": [{"object": "bucket", "start_time": 1772409600, "end_time": 1772496000, "results": list(results)}],
        "has_more": False,
        "next_page": None,
    }


def test_batch_tier_principal_and_rejects(tmp_path: Path) -> None:
    page = _page(
        _result(api_key_id="key_A", batch=True, service_tier="default"),
        _result(user_id="user-1", api_key_id="key_B", batch=False, service_tier="priority"),
        _result(model="over", input_cached_tokens=80, input_cache_write_tokens=30),
        _result(model="neg", output_tokens=-1),
        _result(model="str", input_cached_tokens="5"),
    )
    raw = make_raw(write_json(tmp_path / "usage.json", page), source=SRC)
    result = parser("openai_usage")([raw])

    assert result.rows.sort("principal_id").select("principal_kind", "principal_id", "service_tier").rows() == [
        ("api_key_id", "key_A", "batch"),
        ("openai_user_id", "user-1", "priority"),
    ]
    assert result.rejects.select("file", "line", "field", "reason").rows() == [
        ("usage.json", 3, "input_tokens", "less than cached + cache write tokens"),
        ("usage.json", 4, "output_tokens", "negative"),
        ("usage.json", 5, "input_cached_tokens", "not an integer"),
    ]
    assert result.stats.select("parsed", "loaded", "rejected").row(0) == (5, 2, 3)


def test_batch_is_part_of_the_key(tmp_path: Path) -> None:
    page = _page(_result(batch=True), _result(batch=False), _result(batch=None))
    raw = make_raw(write_json(tmp_path / "usage.json", page), source=SRC)
    rows = parser("openai_usage")([raw]).rows
    assert rows.height == 3
    assert rows["record_id"].n_unique() == 3


SIBLINGS = (
    "embeddings",
    "moderations",
    "images",
    "audio_speeches",
    "audio_transcriptions",
    "file_search_calls",
    "web_search_calls",
)


def test_every_usage_endpoint_is_recognised_by_its_results_object_not_the_file_name(tmp_path: Path) -> None:
    # every page lands under one neutral name: only the body says which endpoint it came from
    raws = []
    for seq, name in enumerate(SIBLINGS, start=1):
        body = sample(f"openai_usage_{name}_example.json").read_bytes()
        path = tmp_path / f"{seq}" / "page.json"
        path.parent.mkdir()
        path.write_bytes(body)
        raws.append(make_raw(path, source=SRC, seq=seq))
    result = parser(SRC)(raws)
    assert result.rejects.height == 0
    got = result.rows.sort("unit", "model_raw", "scope_id", nulls_last=False).select(
        "model_raw",
        "scope_id",
        "principal_kind",
        "principal_id",
        "uncached_input_tokens",
        "cache_read_tokens",
        "output_tokens",
        "requests",
        "quantity",
        "unit",
        "billing_model",
    )
    assert [(*r[:8], None if r[8] is None else str(r[8]), *r[9:]) for r in got.rows()] == [
        (
            "omni-moderation-latest",
            "proj_Q2m9x1",
            "openai_user_id",
            "user-def456UvW",
            40112,
            0,
            0,
            301,
            None,
            None,
            "metered_tokens",
        ),
        (
            "text-embedding-3-large",
            "proj_Svc77k",
            "api_key_id",
            "key_svc",
            90210,
            0,
            0,
            77,
            None,
            None,
            "metered_tokens",
        ),
        (
            "text-embedding-3-small",
            "proj_Q2m9x1",
            "openai_user_id",
            "user-abc123XyZ",
            812004,
            0,
            0,
            1203,
            None,
            None,
            "metered_tokens",
        ),
        (
            "tts-1",
            "proj_Q2m9x1",
            "openai_user_id",
            "user-abc123XyZ",
            0,
            0,
            0,
            40,
            "45012.000000000000",
            "characters",
            "other",
        ),
        (
            None,
            "proj_Q2m9x1",
            "openai_user_id",
            "user-def456UvW",
            0,
            0,
            0,
            58,
            "58.000000000000",
            "file_search_calls",
            "other",
        ),
        (
            "dall-e-3",
            "proj_Q2m9x1",
            "openai_user_id",
            "user-abc123XyZ",
            0,
            0,
            0,
            9,
            "12.000000000000",
            "images",
            "other",
        ),
        ("gpt-image-1", "default", None, None, 0, 0, 0, 3, "3.000000000000", "images", "other"),
        ("whisper-1", "proj_Svc77k", "api_key_id", "key_svc", 0, 0, 0, 14, "3605.000000000000", "seconds", "other"),
        (
            "gpt-5-2025-08-07",
            "proj_Q2m9x1",
            "openai_user_id",
            "user-abc123XyZ",
            0,
            0,
            0,
            19,
            "21.000000000000",
            "web_search_calls",
            "other",
        ),
    ]
    assert result.stats.select("parsed", "loaded", "rejected").sum().row(0) == (9, 9, 0)


def test_each_endpoint_checks_its_own_fields_and_an_unknown_object_is_rejected(tmp_path: Path) -> None:
    body = {
        "object": "page",
        "data": [
            {
                "object": "bucket",
                "start_time": 1772409600,
                "end_time": 1772496000,
                "results": [
                    {"object": "organization.usage.images.result", "num_model_requests": 1, "model": "dall-e-3"},
                    {"object": "organization.usage.embeddings.result", "input_tokens": 5, "num_model_requests": -1},
                    {"object": "organization.usage.vector_stores.result", "usage_bytes": 1024},
                    {"object": "organization.usage.file_searches.result", "num_requests": 2},
                    {"object": "organization.usage.web_searches.result", "num_requests": 4},
                ],
            }
        ],
        "has_more": False,
        "next_page": None,
    }
    result = parser(SRC)([make_raw(write_json(tmp_path / "p.json", body), source=SRC)])
    assert result.rejects.select("line", "field", "reason").rows() == [
        (1, "images", "missing"),
        (2, "num_model_requests", "negative"),
        (3, "object", "not a usage result the puller knows"),
    ]
    # a file search has no model requests, a web search may leave them out: its tool calls still count
    assert sorted((r, str(q), u) for r, q, u in result.rows.select("requests", "quantity", "unit").rows()) == [
        (0, "4.000000000000", "web_search_calls"),
        (2, "2.000000000000", "file_search_calls"),
    ]
