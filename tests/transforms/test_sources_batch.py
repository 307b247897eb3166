"""Behaviour every source parser shares: registry, quarantine, redelivery, compression, idempotence."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import zstandard

from tests.transforms.parser_kit import LANDED, LANDED_LATER, make_raw, sample, write_json
from transforms.common import ParseResult, RawFile, UnreadableFile
from transforms.schema import FILE_STATS_SCHEMA, REJECT_SCHEMA, USAGE_SCHEMA
from transforms.sources import parser, source_ids, spec

# source id -> a verbatim or constructed sample of it
SAMPLES: dict[str, str] = {
    "anthropic_usage": "anthropic_usage_report_messages_grouped_page1.json",
    "anthropic_cost": "anthropic_cost_report_grouped_example.json",
    "openai_usage": "openai_usage_completions_grouped_example.json",
    "openai_costs": "openai_costs_grouped_example.json",
    "claude_code_logs": "claude_code_session_example.jsonl",
    "anthropic_claude_code": "anthropic_claude_code_report_grouped_example.json",
}
JSON_SOURCES = ["anthropic_usage", "anthropic_cost", "openai_usage", "openai_costs"]
START_FIELD = {
    "anthropic_usage": "starting_at",
    "anthropic_cost": "starting_at",
    "openai_usage": "start_time",
    "openai_costs": "start_time",
}
REQUIRED_FIELD = {
    "anthropic_usage": ("output_tokens",),
    "anthropic_cost": ("amount",),
    "openai_usage": ("object",),  # names the endpoint; its own fields are rejected record by record
    "openai_costs": ("amount", "value"),
}


def _raw(source: str, path: Path, **kw: Any) -> RawFile:
    owner = "alice@example.com" if source == "claude_code_logs" else None
    return make_raw(path, source=source, owner=owner, **kw)


def _body(source: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(sample(SAMPLES[source]).read_text())
    return body


def test_registry() -> None:
    assert set(source_ids()) == set(SAMPLES)
    assert {s for s in source_ids() if spec(s).line_oriented} == {"claude_code_logs"}
    for source in source_ids():
        assert parser(source)([]).rows.schema == USAGE_SCHEMA, source


@pytest.mark.parametrize("source", sorted(SAMPLES))
def test_result_schemas_and_counts(source: str) -> None:
    result = parser(source)([_raw(source, sample(SAMPLES[source]))])
    assert isinstance(result, ParseResult)
    assert result.rows.schema == USAGE_SCHEMA
    assert result.rejects.schema == REJECT_SCHEMA
    assert result.stats.schema == FILE_STATS_SCHEMA
    stats = result.stats.row(0, named=True)
    assert stats["parsed"] == stats["loaded"] + stats["rejected"]
    assert result.rows["record_id"].n_unique() == result.rows.height > 0
    assert result.rows["source"].unique().to_list() == [source]


@pytest.mark.parametrize("source", sorted(SAMPLES))
def test_parsing_twice_is_byte_identical(source: str) -> None:
    raw = _raw(source, sample(SAMPLES[source]))
    first, second = parser(source)([raw]), parser(source)([raw])
    assert first.rows.equals(second.rows)
    assert first.stats.equals(second.stats)


@pytest.mark.parametrize("source", sorted(SAMPLES))
def test_same_file_delivered_twice_loads_once(source: str) -> None:
    path = sample(SAMPLES[source])
    once = parser(source)([_raw(source, path)]).rows
    twice = parser(source)([_raw(source, path, seq=1), _raw(source, path, seq=2, landed_at=LANDED_LATER)])
    assert twice.rows.drop("ingested_at").equals(once.drop("ingested_at"))
    assert twice.rows["ingested_at"].unique().to_list() == [LANDED_LATER]
    # one stats row per delivery, both counting the full file
    assert twice.stats.drop("raw_sha256").n_unique() == 1
    assert twice.stats.height == 2


def _correct(source: str, body: dict[str, Any]) -> tuple[str, Any]:
    """Change one value of the first result in place; return the canonical column and its new value."""
    result = body["data"][0]["results"][0]
    if source == "anthropic_usage":
        result["output_tokens"] = 99999
        return "output_tokens", 99999
    if source == "openai_usage":
        result["output_tokens"] = 12345
        return "output_tokens", 12345
    if source == "anthropic_cost":
        result["amount"] = "15000.00"
        return "billed_cost_usd", Decimal("150")
    result["amount"]["value"] = 0.9
    return "billed_cost_usd", Decimal("0.9")


@pytest.mark.parametrize("source", JSON_SOURCES)
def test_corrected_redelivery_keeps_the_latest(source: str, tmp_path: Path) -> None:
    original = _raw(source, sample(SAMPLES[source]), seq=1)
    body = _body(source)
    column, value = _correct(source, body)
    corrected = _raw(source, write_json(tmp_path / "corrected.json", body), seq=2, landed_at=LANDED_LATER)

    before = parser(source)([original]).rows
    # list order must not matter: the manifest seq decides
    after = parser(source)([corrected, original]).rows
    assert after.height == before.height
    changed = after.filter(pl.col("raw_sha256") == corrected.sha256)
    assert changed.height == before.height  # every key of the page came again in seq 2
    diff = after.join(before, on="record_id", suffix="_before").filter(pl.col(column) != pl.col(f"{column}_before"))
    assert diff[column].to_list() == [value]


def test_claude_code_session_that_grew_keeps_the_max(tmp_path: Path) -> None:
    src = "claude_code_logs"
    lines = sample(SAMPLES[src]).read_text().splitlines()
    early = tmp_path / "early.jsonl"
    early.write_text("\n".join(lines[:3]) + "\n")  # user line + first two streamed lines (output 1)
    rows = parser(src)([_raw(src, early, seq=1)]).rows
    assert rows["output_tokens"].to_list() == [1]
    grown = parser(src)([_raw(src, early, seq=1), _raw(src, sample(SAMPLES[src]), seq=2)]).rows
    assert grown.filter(pl.col("record_id") == rows["record_id"][0])["output_tokens"].to_list() == [412]


@pytest.mark.parametrize("source", sorted(SAMPLES))
@pytest.mark.parametrize("codec", ["gz", "zst"])
def test_compressed_delivery_parses_like_plain(source: str, codec: str, tmp_path: Path) -> None:
    path = sample(SAMPLES[source])
    packed = tmp_path / f"{path.name}.{codec}"
    data = path.read_bytes()
    packed.write_bytes(gzip.compress(data) if codec == "gz" else zstandard.ZstdCompressor().compress(data))
    plain = parser(source)([_raw(source, path)])
    compressed_raw = _raw(source, packed)
    compressed = parser(source)([compressed_raw])
    assert compressed.rows.drop("raw_sha256").equals(plain.rows.drop("raw_sha256"))
    assert compressed.rows["raw_sha256"].unique().to_list() == [compressed_raw.sha256]
    assert compressed.stats.drop("raw_sha256").equals(plain.stats.drop("raw_sha256"))


def _break_required(source: str, body: dict[str, Any]) -> None:
    result = body["data"][0]["results"][1]
    *parents, leaf = REQUIRED_FIELD[source]
    for key in parents:
        result = result[key]
    del result[leaf]


def _break_start(source: str, body: dict[str, Any]) -> None:
    body["data"].append({"results": []})


BREAKAGES: dict[str, tuple[Callable[[str, dict[str, Any]], Any], Callable[[str], str | None], str]] = {
    "required field": (_break_required, lambda s: ".".join(REQUIRED_FIELD[s]), "missing"),
    "bucket start": (_break_start, lambda s: f"data[{len(_body(s)['data'])}].{START_FIELD[s]}", "missing"),
    "data missing": (lambda s, b: b.pop("data"), lambda s: "data", "missing"),
    "data not a list": (lambda s, b: b.update(data={"x": 1}), lambda s: "data", "not a list"),
    "results missing": (lambda s, b: b["data"][0].pop("results"), lambda s: "data[0].results", "missing"),
}


@pytest.mark.parametrize("source", JSON_SOURCES)
@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_structurally_broken_page_is_unreadable(source: str, breakage: str, tmp_path: Path) -> None:
    body = _body(source)
    mutate, field, reason = BREAKAGES[breakage]
    mutate(source, body)
    good = _raw(source, sample(SAMPLES[source]))
    bad = _raw(source, write_json(tmp_path / "broken.json", body), seq=2)

    with pytest.raises(UnreadableFile) as err:
        parser(source)([good, bad])
    assert err.value.name == "broken.json"
    assert err.value.field_name == field(source)
    assert err.value.reason == reason
    assert "broken.json" in str(err.value) and str(field(source)) in str(err.value)
    if breakage == "required field":
        assert err.value.line == 2  # the second result of the page


@pytest.mark.parametrize("source", JSON_SOURCES)
@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b'{"data": [', "not JSON"),
        (b"", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        ('{"data": [], "note": "caf\xe9"}'.encode("latin-1"), "not UTF-8"),
    ],
)
def test_unreadable_document(source: str, content: bytes, reason: str, tmp_path: Path) -> None:
    path = tmp_path / "page.json"
    path.write_bytes(content)
    with pytest.raises(UnreadableFile) as err:
        parser(source)([_raw(source, path)])
    assert err.value.name == "page.json"
    assert err.value.reason == reason
    assert str(err.value).startswith("page.json")


@pytest.mark.parametrize("source", JSON_SOURCES)
def test_bad_bucket_timestamp_is_unreadable(source: str, tmp_path: Path) -> None:
    body = _body(source)
    body["data"][0][START_FIELD[source]] = "not a time"
    with pytest.raises(UnreadableFile) as err:
        parser(source)([_raw(source, write_json(tmp_path / "p.json", body))])
    assert (err.value.field_name, err.value.reason) == (f"data[0].{START_FIELD[source]}", "not a timestamp")


@pytest.mark.parametrize("source", JSON_SOURCES)
def test_page_with_only_empty_buckets(source: str, tmp_path: Path) -> None:
    body = {"data": [{START_FIELD[source]: _body(source)["data"][0][START_FIELD[source]], "results": []}]}
    raw = _raw(source, write_json(tmp_path / "empty.json", body))
    result = parser(source)([raw])
    assert result.rows.is_empty()
    assert result.stats.rows() == [(raw.sha256, 0, 0, 0, None, None)]


def test_lineage_timestamps_are_the_delivery_landed_at() -> None:
    for source in SAMPLES:
        rows = parser(source)([_raw(source, sample(SAMPLES[source]))]).rows
        assert rows["ingested_at"].unique().to_list() == [LANDED], source
        assert rows["billing_date"].dtype == pl.Date and rows["billing_date"].min() >= date(2024, 1, 1)
