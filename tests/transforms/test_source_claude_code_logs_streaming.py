"""claude_code_logs read in bounded batches and merged bucket by bucket gives exactly the one-pass result."""

from __future__ import annotations

import gzip
import sqlite3
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from tests.transforms.parser_kit import make_raw, write_jsonl
from transforms.common import ParseResult, RawFile, parsed_lines
from transforms.sources import check, parser
from transforms.sources._readers import jsonl

SRC = "claude_code_logs"
START = datetime(2026, 3, 2, 23, 50, tzinfo=UTC)


def _line(message_id: str, at: datetime, output: int, *, sidechain: bool = False) -> dict[str, Any]:
    return {
        "type": "assistant",
        "timestamp": at.isoformat().replace("+00:00", "Z"),
        "requestId": f"req_{message_id}_{'side' if sidechain else 'main'}",
        "isSidechain": sidechain,
        "message": {
            "id": message_id,
            "model": "claude-sonnet-4-5-20250929",
            "usage": {"input_tokens": 3, "output_tokens": output, "cache_read_input_tokens": 11},
        },
    }


def _corpus(tmp_path: Path) -> list[RawFile]:
    """Six deliveries of two engineers: streamed messages across midnight, sidechain replays of earlier
    messages in other files (one gzip), a session that grew and was delivered again, and bad lines."""
    files: list[RawFile] = []
    seq = 0
    for owner in ("alice@example.com", "bob@example.com"):
        session: list[Any] = []
        for i in range(40):
            at = START + timedelta(minutes=i)  # 23:50 .. 00:29: the day changes mid-session
            for output in (1, 1, 30 + i):  # one response streamed over three lines
                session.append(_line(f"msg_{i:03d}", at + timedelta(seconds=output % 7), output))
        session.insert(5, '{"type": "assistant", "message": {')
        session.insert(9, _line("msg_bad", START, "many"))  # type: ignore[arg-type]
        first = write_jsonl(tmp_path / f"{owner}-s1.jsonl", session[:60])
        grown = write_jsonl(tmp_path / f"{owner}-s1-grown.jsonl", session)
        replays = [_line(f"msg_{i:03d}", START + timedelta(hours=1, minutes=i), 30 + i, sidechain=True)
                   for i in range(0, 40, 3)]  # fmt: skip
        agent = tmp_path / f"{owner}-agent.jsonl.gz"
        agent.write_bytes(gzip.compress(write_jsonl(tmp_path / "plain.jsonl", replays).read_bytes(), mtime=0))
        for path in (agent, first, grown):
            seq += 1
            files.append(make_raw(path, source=SRC, seq=seq, owner=owner))
    return files


def _frames(result: ParseResult) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    return result.rows, result.rejects, result.stats


def test_batches_and_buckets_equal_one_pass(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = _corpus(tmp_path)
    one_pass = parser(SRC)(files)
    assert len(list(jsonl._batches(files))) == 1

    monkeypatch.setattr(jsonl, "BATCH_BYTES", 1)  # every file a batch of its own
    monkeypatch.setattr(jsonl, "BUCKET_BYTES", 20_000)  # several merge buckets
    assert len(list(jsonl._batches(files))) == 6
    streamed = parser(SRC)(files)

    for got, want in zip(_frames(streamed), _frames(one_pass), strict=True):
        assert_frame_equal(got, want)
    rows = streamed.rows
    # 40 messages per engineer, each once: max output, input and cache once, first timestamp
    assert rows.height == 80
    assert rows["output_tokens"].sum() == 2 * sum(30 + i for i in range(40))
    assert rows["uncached_input_tokens"].sum() == 80 * 3
    assert rows.group_by("billing_date").len().sort("billing_date").rows() == [
        (date(2026, 3, 2), 20),
        (date(2026, 3, 3), 60),
    ]
    # the grown session is the latest delivery of each message it carries
    assert set(rows["raw_sha256"]) == {files[2].sha256, files[5].sha256}
    # each bad line is rejected once per delivery that carries it, with its line number and field
    assert streamed.rejects.select("file", "line", "field", "reason").rows()[:2] == [
        ("alice@example.com-s1.jsonl", 6, None, "not JSON"),
        ("alice@example.com-s1.jsonl", 10, "message.usage.output_tokens", "not an integer"),
    ]
    assert (
        streamed.stats.select("parsed", "loaded", "rejected").rows()
        == [
            (14, 14, 0),
            (60, 58, 2),
            (122, 120, 2),
        ]
        * 2
    )


def test_the_check_ingest_runs_gives_the_parsers_rejects_and_stats(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`check` (what ingest accepts files by) skips building the rows' columns, never their dates or counts."""
    files = _corpus(tmp_path)
    monkeypatch.setattr(jsonl, "BATCH_BYTES", 1)
    monkeypatch.setattr(jsonl, "BUCKET_BYTES", 20_000)
    full = parser(SRC)(files)
    checked = check(SRC, files)
    assert_frame_equal(checked.rejects, full.rejects)
    assert_frame_equal(checked.stats, full.stats)
    # each row keeps its billing date and the delivery it comes from (ingest counts rows outside the partitions)
    by_day = ["billing_date", "raw_sha256"]
    assert_frame_equal(checked.rows.group_by(by_day).len().sort(by_day), full.rows.group_by(by_day).len().sort(by_day))
    assert checked.rows["output_tokens"].null_count() == checked.rows.height


def test_validated_lines_are_kept_one_part_per_batch(tmp_path: Path) -> None:
    """Six deliveries (three distinct files) read in one batch leave one Parquet part and one marks index,
    not a file per delivery (thousands of small files cost more to write and read back than the parse);
    a second read parses nothing."""
    files = _corpus(tmp_path)
    folder = tmp_path / "parsed"
    with parsed_lines(folder):
        first = parser(SRC)(files)
        parts = sorted(folder.rglob("*.parquet"))
        kept = sorted(p.name for p in folder.rglob("*") if p.is_file())
        for f in files:
            f.path.write_text("not what was parsed\n")  # read again, these bytes would be rejected
        again = parser(SRC)(files)
    assert len(parts) == 1
    assert kept == sorted([parts[0].name, "marks.sqlite"])
    with closing(sqlite3.connect(next(folder.rglob("marks.sqlite")))) as index:
        marked = index.execute("select sha256, part from marks order by sha256").fetchall()
    # one mark per distinct file: the two engineers deliver the same bytes
    assert marked == [(sha, parts[0].name) for sha in sorted({f.sha256 for f in files})]
    for got, want in zip(_frames(again), _frames(first), strict=True):
        assert_frame_equal(got, want)
