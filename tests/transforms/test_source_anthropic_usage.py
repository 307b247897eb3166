"""anthropic_usage: Admin API messages usage report pages → canonical token rows."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from tests.transforms.parser_kit import LANDED, make_raw, non_null, sample, write_json
from transforms.schema import USAGE_SCHEMA
from transforms.sources import parser

SRC = "anthropic_usage"


def test_verbatim_docs_example() -> None:
    raw = make_raw(sample("anthropic_usage_report_messages_example.json"), source=SRC)
    result = parser("anthropic_usage")([raw])

    assert result.rows.schema == USAGE_SCHEMA
    (row,) = non_null(result.rows)
    record_id = row.pop("record_id")
    assert len(record_id) == 64
    assert row == {
        "billing_date": date(2025, 8, 1),
        "period_start": datetime(2025, 8, 1, tzinfo=UTC),
        "period_end": datetime(2025, 8, 2, tzinfo=UTC),
        "source": "anthropic_usage",
        "provider": "anthropic",
        "publisher": "anthropic",
        "model": "claude-opus-5",
        "model_raw": "claude-opus-5",
        "context_window": "0-200k",
        "service_tier": "standard",
        "inference_geo": "global",
        "principal_kind": "anthropic_account_id",
        "principal_id": "user_01WCz1FkmYMm4gnmykNKUu3Q",
        "scope_kind": "workspace",
        "scope_id": "wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ",
        "uncached_input_tokens": 1500,
        "cache_read_tokens": 200,
        "cache_write_5m_tokens": 500,
        "cache_write_1h_tokens": 1000,
        "output_tokens": 500,
        "billing_model": "metered_tokens",
        "charge_category": "usage",
        "raw_sha256": raw.sha256,
        "ingested_at": LANDED,
    }
    assert result.rejects.is_empty()
    assert result.stats.to_dicts() == [
        {
            "raw_sha256": raw.sha256,
            "parsed": 1,
            "loaded": 1,
            "rejected": 0,
            "min_date": date(2025, 8, 1),
            "max_date": date(2025, 8, 1),
        }
    ]


def test_grouped_two_pages() -> None:
    page1 = make_raw(sample("anthropic_usage_report_messages_grouped_page1.json"), source=SRC, seq=1)
    page2 = make_raw(sample("anthropic_usage_report_messages_grouped_page2.json"), source=SRC, seq=2)
    result = parser("anthropic_usage")([page1, page2])

    got = [
        (
            r["billing_date"],
            r["model_raw"],
            r["principal_kind"],
            r["principal_id"],
            r["scope_id"],
            r["uncached_input_tokens"],
            r["cache_read_tokens"],
            r["cache_write_5m_tokens"],
            r["cache_write_1h_tokens"],
            r["output_tokens"],
            r["raw_sha256"],
        )
        for r in result.rows.sort("billing_date", "output_tokens").to_dicts()
    ]
    user = "user_01WCz1FkmYMm4gnmykNKUu3Q"
    assert got == [
        (date(2026, 3, 2), "claude-haiku-4-5-20251001", "anthropic_account_id", user, "default",
         9120, 0, 0, 0, 2210, page1.sha256),
        (date(2026, 3, 2), "claude-sonnet-4-5-20250929", "anthropic_account_id", user, "default",
         48211, 3902113, 120334, 0, 61877, page1.sha256),
        # account_id null = API-key traffic with no key grouping: no principal, still its own row
        (date(2026, 3, 2), "claude-sonnet-4-5-20250929", None, None, "default",
         731004, 0, 0, 0, 88120, page1.sha256),
        (date(2026, 3, 4), "claude-opus-4-1-20250805", "anthropic_account_id", "user_01Hq7bM3pXz9TyY2wB5vK8dN",
         "default", 15002, 880122, 40211, 9000, 20331, page2.sha256),
    ]  # fmt: skip
    assert result.rows["requests"].null_count() == 4
    assert result.rows["record_id"].n_unique() == 4
    assert result.stats.select("parsed", "loaded", "rejected", "min_date", "max_date").rows() == [
        (3, 3, 0, date(2026, 3, 2), date(2026, 3, 2)),
        (1, 1, 0, date(2026, 3, 4), date(2026, 3, 4)),
    ]


def _result(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "account_id": None,
        "api_key_id": None,
        "service_account_id": None,
        "workspace_id": None,
        "model": "claude-sonnet-4-5-20250929",
        "uncached_input_tokens": 10,
        "cache_read_input_tokens": 20,
        "output_tokens": 30,
    }
    return base | fields


def _page(*results: dict[str, object]) -> dict[str, object]:
    return {
        "data": [
            {"starting_at": "2026-03-02T00:00:00Z", "ending_at": "2026-03-03T00:00:00Z", "results": list(results)}
        ],
        "has_more": False,
        "next_page": None,
    }


def test_principal_fallback_and_optional_cache(tmp_path: Path) -> None:
    page = _page(
        _result(api_key_id="apikey_A", service_account_id="svac_X", workspace_id="wrkspc_W", speed="fast"),
        _result(service_account_id="svac_Y"),
        # an older schema without cache_creation at all: writes default to 0
        _result(account_id="user_Z", api_key_id="apikey_B"),
    )
    page["data"][0]["results"][2].pop("account_id")  # type: ignore[index]
    raw = make_raw(write_json(tmp_path / "p.json", page), source=SRC)
    rows = parser("anthropic_usage")([raw]).rows.sort("principal_id")

    assert rows.select("principal_kind", "principal_id", "scope_id", "speed").rows() == [
        ("api_key_id", "apikey_A", "wrkspc_W", "fast"),
        ("api_key_id", "apikey_B", "default", None),
        ("service_account_id", "svac_Y", "default", None),
    ]
    assert rows.select("cache_write_5m_tokens", "cache_write_1h_tokens").unique().rows() == [(0, 0)]


def test_raw_group_values_stay_distinct_in_the_key(tmp_path: Path) -> None:
    """A null workspace and a workspace literally named 'default' share scope_id but not record_id."""
    page = _page(_result(workspace_id=None), _result(workspace_id="default"))
    raw = make_raw(write_json(tmp_path / "p.json", page), source=SRC)
    rows = parser("anthropic_usage")([raw]).rows
    assert rows["scope_id"].to_list() == ["default", "default"]
    assert rows["record_id"].n_unique() == 2


def test_invalid_values_reject_the_result_only(tmp_path: Path) -> None:
    page = _page(
        _result(),
        _result(model="m-neg", output_tokens=-5),
        _result(model="m-str", cache_creation={"ephemeral_5m_input_tokens": 1, "ephemeral_1h_input_tokens": "12"}),
        _result(model="m-null", uncached_input_tokens=None),
        _result(model="m-float", cache_read_input_tokens=1.5),
    )
    raw = make_raw(write_json(tmp_path / "page.json", page), source=SRC)
    result = parser("anthropic_usage")([raw])

    assert result.rows["model_raw"].to_list() == ["claude-sonnet-4-5-20250929"]
    assert result.rejects.to_dicts() == [
        {"raw_sha256": raw.sha256, "file": "page.json", "line": 2, "field": "output_tokens", "reason": "negative"},
        {
            "raw_sha256": raw.sha256,
            "file": "page.json",
            "line": 3,
            "field": "cache_creation.ephemeral_1h_input_tokens",
            "reason": "not an integer",
        },
        {"raw_sha256": raw.sha256, "file": "page.json", "line": 4, "field": "uncached_input_tokens", "reason": "null"},
        {
            "raw_sha256": raw.sha256,
            "file": "page.json",
            "line": 5,
            "field": "cache_read_input_tokens",
            "reason": "not an integer",
        },
    ]
    assert result.stats.select("parsed", "loaded", "rejected").row(0) == (5, 1, 4)
