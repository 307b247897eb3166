"""claude_code_logs: local session JSONL → one row per (engineer, message.id)."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.transforms.parser_kit import LANDED, LANDED_LATER, make_raw, non_null, sample, write_jsonl
from transforms.common import UnreadableFile
from transforms.schema import USAGE_SCHEMA
from transforms.sources import parser

SRC = "claude_code_logs"
OWNER = "Alice@Example.com"


def _record_id(owner: str, message_id: str) -> str:
    return hashlib.sha256(f"{SRC}\x1f{owner}\x1f{message_id}".encode()).hexdigest()


def test_session_example() -> None:
    raw = make_raw(sample("claude_code_session_example.jsonl"), source=SRC, owner=OWNER)
    result = parser("claude_code_logs")([raw])

    assert result.rows.schema == USAGE_SCHEMA
    common = {
        "source": "claude_code_logs",
        "provider": "anthropic",
        "publisher": "anthropic",
        "service_tier": "standard",
        "principal_kind": "email",
        "principal_id": "alice@example.com",
        "cache_write_1h_tokens": 0,
        "requests": 1,
        "billing_model": "metered_tokens",
        "charge_category": "usage",
        "raw_sha256": raw.sha256,
        "ingested_at": LANDED,
    }
    # three streamed lines (output 1 → 1 → 412) and a sidechain replay under a new requestId: one row;
    # the synthetic error line, the user line and the summary line give none
    assert non_null(result.rows) == [
        common
        | {
            "billing_date": date(2025, 6, 1),
            "period_start": datetime(2025, 6, 1, 15, 2, 11, tzinfo=UTC),
            "period_end": datetime(2025, 6, 1, 15, 2, 11, tzinfo=UTC),
            "model": "claude-sonnet-4-20250514",
            "model_raw": "claude-sonnet-4-20250514",
            "uncached_input_tokens": 4,
            "cache_read_tokens": 0,
            "cache_write_5m_tokens": 12011,  # legacy flat cache_creation_input_tokens
            "output_tokens": 1203,
            "record_id": _record_id("alice@example.com", "msg_01LegacyLegacyLegacy00"),
        },
        common
        | {
            "billing_date": date(2026, 3, 2),
            "period_start": datetime(2026, 3, 2, 9, 14, 6, 501000, tzinfo=UTC),
            "period_end": datetime(2026, 3, 2, 9, 14, 6, 501000, tzinfo=UTC),
            "model": "claude-sonnet-4-5-20250929",
            "model_raw": "claude-sonnet-4-5-20250929",
            "uncached_input_tokens": 3,
            "cache_read_tokens": 41877,
            "cache_write_5m_tokens": 5210,
            "output_tokens": 412,
            "record_id": _record_id("alice@example.com", "msg_01AbCdEfGhIjKlMnOpQrStUv"),
        },
    ]
    assert result.rejects.is_empty()
    assert result.stats.to_dicts() == [
        {
            "raw_sha256": raw.sha256,
            "parsed": 8,
            "loaded": 8,
            "rejected": 0,
            "min_date": date(2025, 6, 1),
            "max_date": date(2026, 3, 2),
        }
    ]


def _usage(message_id: str, ts: str, output: int, **usage: Any) -> dict[str, Any]:
    return {
        "type": "assistant",
        "timestamp": ts,
        "requestId": f"req_{message_id}",
        "message": {
            "id": message_id,
            "model": "claude-opus-4-1-20250805",
            "usage": {"input_tokens": 7, "output_tokens": output, "cache_read_input_tokens": 100} | usage,
        },
    }


def test_bad_lines_are_rejected_one_by_one(tmp_path: Path) -> None:
    missing_id = _usage("msg_x", "2026-03-02T10:00:00Z", 5)
    del missing_id["message"]["id"]
    lines: list[Any] = [
        _usage("msg_ok", "2026-03-02T10:00:00Z", 9, cache_creation={"ephemeral_1h_input_tokens": 64}),
        "",
        '{"type": "assistant", "message": {',
        _usage("msg_abc", "2026-03-02T10:00:01Z", "abc"),  # type: ignore[arg-type]
        missing_id,
        {"type": "user", "timestamp": "2026-03-02T10:00:02Z", "message": {"role": "user", "content": "hi"}},
        _usage("msg_ts", "yesterday", 5),
        _usage("msg_fast", "2026-03-02T23:59:59.999+00:00", 3, speed="fast", inference_geo="us"),
    ]
    raw = make_raw(write_jsonl(tmp_path / "session.jsonl", lines), source=SRC, owner=OWNER)
    result = parser("claude_code_logs")([raw])

    assert result.rows.select(
        "model_raw", "speed", "inference_geo", "cache_write_5m_tokens", "cache_write_1h_tokens", "output_tokens"
    ).rows() == [
        ("claude-opus-4-1-20250805", None, None, 0, 64, 9),
        ("claude-opus-4-1-20250805", "fast", "us", 0, 0, 3),
    ]
    assert result.rejects.to_dicts() == [
        {"raw_sha256": raw.sha256, "file": "session.jsonl", "line": 3, "field": None, "reason": "not JSON"},
        {
            "raw_sha256": raw.sha256,
            "file": "session.jsonl",
            "line": 4,
            "field": "message.usage.output_tokens",
            "reason": "not an integer",
        },
        {"raw_sha256": raw.sha256, "file": "session.jsonl", "line": 5, "field": "message.id", "reason": "missing"},
        {
            "raw_sha256": raw.sha256,
            "file": "session.jsonl",
            "line": 7,
            "field": "timestamp",
            "reason": "not a timestamp",
        },
    ]
    # the blank line 2 is not counted; the user line loads without producing a row
    assert result.stats.select("parsed", "loaded", "rejected", "min_date", "max_date").row(0) == (
        7,
        3,
        4,
        date(2026, 3, 2),
        date(2026, 3, 2),
    )


def test_dedup_across_files_and_deliveries(tmp_path: Path) -> None:
    """A session file that grew, and a subagent file replaying the parent message, give one row."""
    early = write_jsonl(tmp_path / "s1.jsonl", [_usage("msg_A", "2026-03-02T23:59:58Z", 1)])
    grown = write_jsonl(
        tmp_path / "s2.jsonl",
        [_usage("msg_A", "2026-03-02T23:59:58Z", 1), _usage("msg_A", "2026-03-03T00:00:03Z", 250)],
    )
    replay = _usage("msg_A", "2026-03-03T00:01:00Z", 250)
    replay["requestId"] = "req_new_sidechain"
    replay["isSidechain"] = True
    side = write_jsonl(tmp_path / "agent.jsonl", [replay])
    bob = write_jsonl(tmp_path / "bob.jsonl", [_usage("msg_A", "2026-03-03T08:00:00Z", 40)])

    files = [
        make_raw(side, source=SRC, seq=2, owner=OWNER),
        make_raw(grown, source=SRC, seq=3, owner="alice@example.com ", landed_at=LANDED_LATER),
        make_raw(early, source=SRC, seq=1, owner=OWNER),
        make_raw(bob, source=SRC, seq=4, owner="bob@example.com"),
    ]
    result = parser("claude_code_logs")(files)

    assert result.rows.select(
        "principal_id", "billing_date", "period_start", "output_tokens", "uncached_input_tokens", "raw_sha256"
    ).rows() == [
        ("alice@example.com", date(2026, 3, 2), datetime(2026, 3, 2, 23, 59, 58, tzinfo=UTC), 250, 7,
         files[1].sha256),
        ("bob@example.com", date(2026, 3, 3), datetime(2026, 3, 3, 8, tzinfo=UTC), 40, 7, files[3].sha256),
    ]  # fmt: skip
    assert result.rows["ingested_at"].to_list() == [LANDED_LATER, LANDED]
    # each file's date range is where the rows it contributed to land
    assert result.stats.select("parsed", "loaded", "min_date", "max_date").rows() == [
        (1, 1, date(2026, 3, 2), date(2026, 3, 2)),
        (2, 2, date(2026, 3, 2), date(2026, 3, 2)),
        (1, 1, date(2026, 3, 2), date(2026, 3, 2)),
        (1, 1, date(2026, 3, 3), date(2026, 3, 3)),
    ]


def test_owner_is_required(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "s.jsonl", [_usage("msg_A", "2026-03-02T10:00:00Z", 1)])
    with pytest.raises(UnreadableFile) as err:
        parser("claude_code_logs")([make_raw(path, source=SRC)])
    assert err.value.name == "s.jsonl"
    assert err.value.field_name == "provenance.owner"


def test_not_utf8_is_unreadable(tmp_path: Path) -> None:
    good = write_jsonl(tmp_path / "good.jsonl", [_usage("msg_A", "2026-03-02T10:00:00Z", 1)])
    bad = tmp_path / "latin1.jsonl"
    bad.write_bytes('{"type": "user", "cwd": "/Users/jos\xe9"}\n'.encode("latin-1"))
    with pytest.raises(UnreadableFile) as err:
        parser("claude_code_logs")([make_raw(good, source=SRC, owner=OWNER), make_raw(bad, source=SRC, owner=OWNER)])
    assert err.value.name == "latin1.jsonl"
    assert "latin1.jsonl" in str(err.value)
    assert err.value.reason == "not UTF-8"


def test_crlf_and_blank_lines_keep_numbering(tmp_path: Path) -> None:
    path = tmp_path / "crlf.jsonl"
    path.write_bytes(b'\r\n{"type":"summary"}\r\n\r\nnot json\r\n')
    result = parser("claude_code_logs")([make_raw(path, source=SRC, owner=OWNER)])
    assert result.rows.is_empty()
    assert result.rejects.select("line", "reason").rows() == [(4, "not JSON")]
    assert result.stats.select("parsed", "loaded", "rejected", "min_date").row(0) == (2, 1, 1, None)
