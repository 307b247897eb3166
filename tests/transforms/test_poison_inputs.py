"""Poison inputs (issue 7, items 3 and 4): broken compression, impossible timestamps, counts no later
stage can hold. Each is quarantined or rejected at its line, naming the file and the field; none crashes."""

from __future__ import annotations

import gzip
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.transforms.parser_kit import make_raw, sample, write_json
from transforms.common import InflateLimits, UnreadableFile, inflate_limits
from transforms.sources import parser

MAX_COUNT = 10**10
OU = "openai_usage_completions_grouped_example.json"
AU = "anthropic_usage_report_messages_grouped_page1.json"


def _body(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(sample(name).read_text())
    return body


def _parse(source: str, path: Path, name: str | None = None) -> Any:
    return parser(source)([make_raw(path, source=source, name=name)])


# --- compression ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "kind"),
    [
        ("truncated.json.gz", gzip.compress(sample(OU).read_bytes(), mtime=0)[:100], "gzip"),
        ("garbage.json.zst", bytes(range(256)) * 4, "zstd"),
        ("plain.json.gz", sample(OU).read_bytes(), "gzip"),
        ("truncated.json.zst", zstandard.ZstdCompressor().compress(sample(OU).read_bytes())[:-40], "zstd"),
    ],
    ids=["truncated-gzip", "garbage-zstd", "plain-as-gzip", "truncated-zstd"],  # the same in every xdist worker
)
def test_broken_compression_is_unreadable_naming_the_file(name: str, content: bytes, kind: str, tmp_path: Path) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UnreadableFile) as err:
        _parse("openai_usage", path)
    assert err.value.name == name
    assert err.value.reason.startswith(f"not a readable {kind} file (")


def test_every_zstd_frame_is_read(tmp_path: Path) -> None:
    text = sample(OU).read_bytes()
    half = len(text) // 2
    cctx = zstandard.ZstdCompressor()
    path = tmp_path / "two_frames.json.zst"
    path.write_bytes(cctx.compress(text[:half]) + cctx.compress(text[half:]))
    assert _parse("openai_usage", path).rows.height == _parse("openai_usage", sample(OU)).rows.height


def test_inflated_size_is_capped(tmp_path: Path) -> None:
    path = tmp_path / "bomb.json.gz"
    path.write_bytes(gzip.compress(b" " * 5_000_000))
    with inflate_limits(InflateLimits(tmp_path / "_tmp", 1_000_000)), pytest.raises(UnreadableFile) as err:
        _parse("openai_usage", path)
    assert err.value.reason == "inflates to more than ingest.max_inflated_bytes (1,000,000 bytes)"
    assert list((tmp_path / "_tmp").iterdir()) == []  # the scratch folder is gone


def test_scratch_goes_where_the_limits_say(tmp_path: Path) -> None:
    path = tmp_path / "page.json.gz"
    path.write_bytes(gzip.compress(sample(OU).read_bytes()))
    with inflate_limits(InflateLimits(tmp_path / "data" / "_tmp", 10_000_000)):
        assert _parse("openai_usage", path).rows.height == _parse("openai_usage", sample(OU)).rows.height
    assert list((tmp_path / "data" / "_tmp").iterdir()) == []


# --- timestamps ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("99999-03-02T00:00:00Z", "out of range (1970 to 2099)"),
        (1772409600000, "out of range (1970 to 2099; Unix time in seconds, not milliseconds)"),
    ],
)
def test_bucket_timestamp_out_of_range_is_unreadable_naming_the_field(value: Any, reason: str, tmp_path: Path) -> None:
    body = _body(OU)
    body["data"][0]["start_time"] = value
    with pytest.raises(UnreadableFile) as err:
        _parse("openai_usage", write_json(tmp_path / "p.json", body))
    assert (err.value.name, err.value.field_name, err.value.reason) == ("p.json", "data[0].start_time", reason)


# --- counts --------------------------------------------------------------------------------------


def test_openai_input_at_int64_max_with_cached_minus_one_is_rejected_not_a_crash(tmp_path: Path) -> None:
    body = _body(OU)
    body["data"][0]["results"][0].update(input_tokens=2**63 - 1, input_cached_tokens=-1)
    result = _parse("openai_usage", write_json(tmp_path / "p.json", body))
    assert result.rejects.select("file", "line", "field", "reason").rows() == [
        ("p.json", 1, "input_tokens", "out of range (over 10000000000)")
    ]
    assert result.stats.select("parsed", "loaded", "rejected").row(0) == (4, 3, 1)


def test_openai_negative_cached_is_rejected(tmp_path: Path) -> None:
    body = _body(OU)
    body["data"][0]["results"][0].update(input_tokens=5, input_cached_tokens=-1)
    result = _parse("openai_usage", write_json(tmp_path / "p.json", body))
    assert result.rejects.select("field", "reason").rows() == [("input_cached_tokens", "negative")]


@pytest.mark.parametrize("value", [2**63 - 1, MAX_COUNT + 1])
def test_anthropic_token_fields_over_the_maximum_are_rejected(value: int, tmp_path: Path) -> None:
    body = _body(AU)
    r = body["data"][0]["results"][0]
    r.update(uncached_input_tokens=value, cache_read_input_tokens=value, output_tokens=value)
    result = _parse("anthropic_usage", write_json(tmp_path / "p.json", body))
    assert result.rejects.select("line", "field", "reason").rows() == [
        (1, "uncached_input_tokens", "out of range (over 10000000000)")
    ]


def test_counts_at_the_maximum_load(tmp_path: Path) -> None:
    body = _body(AU)
    r = body["data"][0]["results"][0]
    r.update(uncached_input_tokens=MAX_COUNT, cache_read_input_tokens=MAX_COUNT, output_tokens=MAX_COUNT)
    r["cache_creation"] = {"ephemeral_5m_input_tokens": MAX_COUNT, "ephemeral_1h_input_tokens": MAX_COUNT}
    result = _parse("anthropic_usage", write_json(tmp_path / "p.json", body))
    assert result.rejects.height == 0
    top = result.rows.filter(result.rows["uncached_input_tokens"] == MAX_COUNT)
    assert top.select(
        "uncached_input_tokens", "cache_read_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens", "output_tokens"
    ).rows() == [(MAX_COUNT,) * 5]


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=-(2**64), max_value=2**64))
def test_a_count_loads_exactly_when_it_is_within_0_and_the_maximum(value: int) -> None:
    body = _body(AU)
    body["data"][0]["results"] = [body["data"][0]["results"][0] | {"output_tokens": value}]
    with tempfile.TemporaryDirectory() as tmp:
        result = _parse("anthropic_usage", write_json(Path(tmp) / "p.json", body))
    if 0 <= value <= MAX_COUNT:
        assert result.rejects.height == 0 and result.rows["output_tokens"].to_list() == [value]
    else:
        assert result.rows.height == 0
        [(field, reason)] = result.rejects.select("field", "reason").rows()
        assert field == "output_tokens"
        assert reason in {"negative", "out of range (over 10000000000)", "not an integer"}


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=-(10**13), max_value=10**13))
def test_a_unix_timestamp_is_accepted_exactly_from_1970_to_2099(seconds: int) -> None:
    body = _body(OU)
    body["data"][0]["start_time"] = seconds
    body["data"][0]["end_time"] = None
    with tempfile.TemporaryDirectory() as tmp:
        path = write_json(Path(tmp) / "p.json", body)
        if 0 <= seconds < 4102444800:  # 2100-01-01T00:00:00Z
            assert _parse("openai_usage", path).rows["period_start"].dt.epoch("s").unique().to_list() == [seconds]
        else:
            with pytest.raises(UnreadableFile) as err:
                _parse("openai_usage", path)
            assert err.value.field_name == "data[0].start_time"
            assert err.value.reason.startswith("out of range (1970 to 2099") or err.value.reason == "not a timestamp"
