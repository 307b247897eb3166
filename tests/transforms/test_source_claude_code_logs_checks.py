"""claude_code_logs: the per-field checks of a usage line, field by field, and the file-level edges.

The parser looks every field of a line up in one parse; these pin the reject field and reason of
each check, in order, as the shared `*_reason` macros define them.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from tests.transforms.parser_kit import make_raw, write_jsonl
from transforms.sources import parser

SRC = "claude_code_logs"
OWNER = "dev@example.com"


def _line(**changes: Any) -> dict[str, Any]:
    """A valid usage line; `changes` maps a dotted path to a new value (`...` deletes the field)."""
    line: dict[str, Any] = {
        "type": "assistant",
        "timestamp": "2026-03-02T10:00:00Z",
        "message": {
            "id": "msg_1",
            "model": "claude-sonnet-4-5",
            "usage": {"input_tokens": 3, "output_tokens": 5, "cache_read_input_tokens": 7},
        },
    }
    for path, value in changes.items():
        *parents, leaf = path.split(".")
        node = line
        for key in parents:
            node = node[key]
        if value is ...:
            del node[leaf]
        else:
            node[leaf] = value
    return line


REJECTED = [
    (_line(**{"message.usage": []}), "message.usage", "not an object"),
    (_line(**{"message.usage": "x"}), "message.usage", "not an object"),
    (_line(timestamp=...), "timestamp", "missing"),
    (_line(timestamp=None), "timestamp", "null"),
    (_line(timestamp="yesterday"), "timestamp", "not a timestamp"),
    (_line(timestamp=True), "timestamp", "not a timestamp"),
    (_line(**{"message.id": ...}), "message.id", "missing"),
    (_line(**{"message.id": None}), "message.id", "null"),
    (_line(**{"message.id": 5}), "message.id", "not a string"),
    (_line(**{"message.id": ""}), "message.id", "empty"),
    (_line(**{"message.usage.input_tokens": ...}), "message.usage.input_tokens", "missing"),
    (_line(**{"message.usage.input_tokens": None}), "message.usage.input_tokens", "null"),
    (_line(**{"message.usage.input_tokens": "3"}), "message.usage.input_tokens", "not an integer"),
    (_line(**{"message.usage.input_tokens": 1.5}), "message.usage.input_tokens", "not an integer"),
    (_line(**{"message.usage.input_tokens": 2**63}), "message.usage.input_tokens", "out of range (over 10000000000)"),
    # the documented maximum count per field (docs/ingest-limits.md)
    (
        _line(**{"message.usage.input_tokens": 10**10 + 1}),
        "message.usage.input_tokens",
        "out of range (over 10000000000)",
    ),
    (
        _line(**{"message.usage.output_tokens": 2**63 - 1}),
        "message.usage.output_tokens",
        "out of range (over 10000000000)",
    ),
    # a year no later stage can hold, and Unix milliseconds where seconds are expected
    (_line(timestamp="99999-03-02T10:00:00Z"), "timestamp", "out of range (1970 to 2099)"),
    (
        _line(timestamp=1772445600000),
        "timestamp",
        "out of range (1970 to 2099; Unix time in seconds, not milliseconds)",
    ),
    (_line(timestamp="1969-12-31T23:59:59Z"), "timestamp", "out of range (1970 to 2099)"),
    (_line(**{"message.usage.input_tokens": -1}), "message.usage.input_tokens", "negative"),
    (_line(**{"message.usage.output_tokens": {}}), "message.usage.output_tokens", "not an integer"),
    (_line(**{"message.usage.cache_read_input_tokens": -2}), "message.usage.cache_read_input_tokens", "negative"),
    # the flat cache-write count is checked only when there is no `cache_creation` object
    (
        _line(**{"message.usage.cache_creation_input_tokens": "x"}),
        "message.usage.cache_creation_input_tokens",
        "not an integer",
    ),
    (
        _line(**{"message.usage.cache_creation_input_tokens": "x", "message.usage.cache_creation": None}),
        "message.usage.cache_creation_input_tokens",
        "not an integer",
    ),
    (
        _line(**{"message.usage.cache_creation": {"ephemeral_5m_input_tokens": -1}}),
        "message.usage.cache_creation.ephemeral_5m_input_tokens",
        "negative",
    ),
    (
        _line(**{"message.usage.cache_creation": {"ephemeral_1h_input_tokens": "1"}}),
        "message.usage.cache_creation.ephemeral_1h_input_tokens",
        "not an integer",
    ),
    # the first failing check wins
    (_line(timestamp=None, **{"message.id": 5, "message.usage.input_tokens": -1}), "timestamp", "null"),
    ("[1, 2]", None, "not a JSON object"),
    ("null", None, "not a JSON object"),
    ('"text"', None, "not a JSON object"),
    ("{'a': 1}", None, "not JSON"),
    ('{"a": 1}{"b": 2}', None, "not JSON"),
]


@pytest.mark.parametrize(("line", "field", "reason"), REJECTED)
def test_each_check_rejects_with_its_field_and_reason(
    line: Any, field: str | None, reason: str, tmp_path: Path
) -> None:
    raw = make_raw(write_jsonl(tmp_path / "s.jsonl", [_line(), line]), source=SRC, owner=OWNER)
    result = parser("claude_code_logs")([raw])
    assert result.rejects.select("line", "field", "reason").rows() == [(2, field, reason)]
    assert result.stats.select("parsed", "loaded", "rejected").row(0) == (2, 1, 1)
    assert result.rows.height == 1


LOADED_WITHOUT_USAGE = [
    _line(**{"message.usage": None}),
    _line(**{"message.usage": ...}),
    _line(**{"message": "text"}),
    # a synthetic error line is not usage, whatever its fields
    _line(timestamp="yesterday", **{"message.model": "<synthetic>", "message.usage.input_tokens": -1}),
    {"type": "summary", "summary": "usage of the day"},
    "{}",
]


@pytest.mark.parametrize("line", LOADED_WITHOUT_USAGE)
def test_lines_without_usage_load_without_a_row(line: Any, tmp_path: Path) -> None:
    raw = make_raw(write_jsonl(tmp_path / "s.jsonl", [line]), source=SRC, owner=OWNER)
    result = parser("claude_code_logs")([raw])
    assert result.rows.is_empty()
    assert result.rejects.is_empty()
    assert result.stats.select("parsed", "loaded", "rejected").row(0) == (1, 1, 0)


def test_loaded_values(tmp_path: Path) -> None:
    lines = [
        _line(
            timestamp=1772445600,  # Unix seconds: 2026-03-02T10:00:00Z
            **{
                "message.id": "msg_\\u0041",  # written escaped below: the id is msg_A
                "message.model": 7,
                "message.usage.cache_creation_input_tokens": 40,  # ignored: the split object wins
                "message.usage.cache_creation": {"ephemeral_5m_input_tokens": 11, "ephemeral_1h_input_tokens": 13},
                "message.usage.service_tier": "priority",
                "message.usage.speed": {"mode": "fast"},
            },
        ),
        _line(
            timestamp="2026-03-02T11:00:00Z", **{"message.id": "msg_B", "message.usage.cache_creation_input_tokens": 40}
        ),
    ]
    path = tmp_path / "s.jsonl"
    path.write_text("\n".join(json.dumps(x).replace("\\\\u0041", "\\u0041") for x in lines) + "\n")
    result = parser("claude_code_logs")([make_raw(path, source=SRC, owner=OWNER)])
    assert result.rejects.is_empty()
    rows = result.rows.sort("period_start")
    assert rows.select(
        "model_raw", "service_tier", "speed", "cache_write_5m_tokens", "cache_write_1h_tokens", "output_tokens"
    ).rows() == [
        ("7", "priority", '{"mode":"fast"}', 11, 13, 5),
        ("claude-sonnet-4-5", None, None, 40, 0, 5),
    ]
    assert rows["period_start"].dt.hour().to_list() == [10, 11]
    key = f"{SRC}\x1f{OWNER}\x1fmsg_A".encode()
    assert rows["record_id"][0] == hashlib.sha256(key).hexdigest()


def test_file_edges(tmp_path: Path) -> None:
    """A byte order mark, blank and space-only lines, CR line ends and indented JSON."""
    good = json.dumps(_line())
    path = tmp_path / "s.jsonl"
    path.write_bytes(("\ufeff" + good + "\r\n \t \r\n\r\n  " + good + "\r\r\n\ufeff" + good + "\n").encode())
    result = parser("claude_code_logs")([make_raw(path, source=SRC, owner=OWNER)])
    assert result.rejects.select("line", "reason").rows() == [(5, "not JSON")]  # a BOM only counts at the start
    assert result.stats.select("parsed", "loaded", "rejected").row(0) == (3, 2, 1)
    assert result.rows.height == 1


def test_empty_file_and_same_file_twice(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    session = write_jsonl(tmp_path / "s.jsonl", [_line()])
    files = [
        make_raw(empty, source=SRC, owner=OWNER),
        make_raw(session, source=SRC, seq=1, owner=OWNER),
        make_raw(session, source=SRC, seq=2, owner=OWNER, name="again.jsonl"),
    ]
    result = parser("claude_code_logs")(files)
    assert result.stats.select("parsed", "loaded").rows() == [(0, 0), (1, 1), (1, 1)]
    assert result.rows.height == 1


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    session = write_jsonl(tmp_path / "s.jsonl", [_line()])
    gone = make_raw(write_jsonl(tmp_path / "gone.jsonl", [_line()]), source=SRC, owner=OWNER)
    (tmp_path / "gone.jsonl").unlink()
    with pytest.raises(FileNotFoundError):
        parser("claude_code_logs")([make_raw(session, source=SRC, owner=OWNER), gone])
