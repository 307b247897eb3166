"""Synthetic Claude Code session logs in the real on-disk shape, for the benchmarks.

`<root>/<engineer email>/projects/<project>/<session uuid>.jsonl`, compact JSON lines as Claude Code
writes them: every assistant response carries `message.{id, model, usage}`; a third of the responses are
streamed over three lines (same `message.id`, growing `output_tokens`); about 4% of responses are replayed
by a sidechain agent file of the same project (`agent-<id>.jsonl`, `isSidechain: true`, a new
`requestId`). A session starts in the evening now and then, so it crosses midnight. With `compress` each
file is written zstd-compressed (`.jsonl.zst`), as the 100M-line case does to fit on disk.

Deterministic for (lines, engineers, days, seed). A line is a row; `messages` is what dedup must give.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO

import zstandard

MODELS = ("claude-sonnet-4-5-20250929", "claude-opus-4-1-20250805", "claude-haiku-4-5-20251001")
LINE = (
    '{"parentUuid":"%s","isSidechain":%s,"userType":"external","cwd":"/home/dev/%s","sessionId":"%s",'
    '"version":"2.0.14","gitBranch":"main","message":{"id":"%s","type":"message","role":"assistant",'
    '"model":"%s","content":[{"type":"text","text":"%s"}],"stop_reason":null,"stop_sequence":null,'
    '"usage":{"input_tokens":%d,"cache_creation_input_tokens":%d,"cache_read_input_tokens":%d,'
    '"cache_creation":{"ephemeral_5m_input_tokens":%d,"ephemeral_1h_input_tokens":0},"output_tokens":%d,'
    '"service_tier":"standard"}},"requestId":"%s","type":"assistant","uuid":"%s","timestamp":"%s"}\n'
)
TEXT = "Let me look at the failing test and the function it calls before changing anything."


@dataclass(frozen=True)
class Corpus:
    """What was written: files, lines (rows), distinct messages per (engineer, message.id), date range."""

    root: str
    engineers: int
    files: int
    lines: int
    messages: int
    bytes: int
    start: str
    end: str

    def as_dict(self) -> dict[str, object]:
        """The facts as JSON-ready values."""
        return asdict(self)


def _ts(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def _open(path: Path, compress: bool) -> IO[bytes]:
    if compress:
        return zstandard.ZstdCompressor(level=3).stream_writer(path.open("wb"), closefd=True)  # type: ignore[return-value]
    return path.open("wb")


def _session_lines(
    rng: random.Random, start: datetime, responses: int, session: str, project: str
) -> Iterator[tuple[str, str, list[str]]]:
    """(message id, first line's record for a replay, the lines) per response of one session."""
    at = start
    for _ in range(responses):
        at += timedelta(seconds=rng.randint(5, 90))
        mid = f"msg_01{uuid.UUID(int=rng.getrandbits(128)).hex[:22]}"
        req = f"req_011{uuid.UUID(int=rng.getrandbits(128)).hex[:21]}"
        model = MODELS[0] if rng.random() < 0.7 else MODELS[1 + (rng.random() < 0.5)]
        inp, cw, cr, out = rng.randint(1, 40), rng.randint(0, 4000), rng.randint(0, 60000), rng.randint(20, 1500)
        steps = (1, out // 2, out) if rng.random() < 1 / 3 else (out,)
        lines = [
            LINE % (uuid.UUID(int=rng.getrandbits(128)), "false", project, session, mid, model, TEXT, inp, cw, cr,
                    cw, o, req, uuid.UUID(int=rng.getrandbits(128)), _ts(at + timedelta(milliseconds=300 * k)))
            for k, o in enumerate(steps)
        ]  # fmt: skip
        replay = LINE % (uuid.UUID(int=rng.getrandbits(128)), "true", project, session, mid, model, TEXT, inp, cw,
                         cr, cw, out, req + "s", uuid.UUID(int=rng.getrandbits(128)),
                         _ts(at + timedelta(seconds=rng.randint(1, 20))))  # fmt: skip
        yield mid, replay, lines


def write_corpus(
    root: Path, lines: int, *, engineers: int = 20, days: int | None = None, seed: int = 7, compress: bool = False
) -> Corpus:
    """Write about `lines` lines of session logs for `engineers` engineers under `root`.

    The data grows as history does: a fixed load per engineer and day (about 1,700 lines), so more
    lines means more days. `days` overrides that.
    """
    rng = random.Random(seed)
    days = days or max(1, round(lines / (engineers * 1700)))
    per_day = lines / (engineers * days)
    first = date(2025, 1, 1)
    written = files = messages = size = 0
    suffix = ".jsonl.zst" if compress else ".jsonl"
    for e in range(engineers):
        owner = f"dev{e:05d}@example.com"
        for d in range(days):
            project = f"proj-{(e + d) % 7}"
            folder = root / owner / "projects" / f"-home-dev-{project}"
            folder.mkdir(parents=True, exist_ok=True)
            day = datetime(first.year, first.month, first.day, tzinfo=UTC) + timedelta(days=d)
            budget = round(per_day * (d + 1)) - round(per_day * d)
            session_no = 0
            while budget > 0:
                session = str(uuid.UUID(int=rng.getrandbits(128)))
                evening = rng.random() < 0.15  # a late session runs past midnight
                start = day + timedelta(hours=22.5 if evening else rng.uniform(8, 18))
                responses = max(1, min(budget * 3 // 5, rng.randint(150, 400)))
                replays: list[str] = []
                with _open(folder / f"{session}{suffix}", compress) as fh:
                    for _mid, replay, chunk in _session_lines(rng, start, responses, session, project):
                        fh.write("".join(chunk).encode())
                        written += len(chunk)
                        budget -= len(chunk)
                        messages += 1
                        if rng.random() < 0.04:
                            replays.append(replay)
                files += 1
                if replays:
                    with _open(folder / f"agent-{session[:8]}-{session_no}{suffix}", compress) as fh:
                        fh.write("".join(replays).encode())
                    written += len(replays)
                    budget -= len(replays)
                    files += 1
                session_no += 1
    size = sum(p.stat().st_size for p in root.rglob(f"*{suffix}"))
    end = first + timedelta(days=days)  # a late session may end after the last day
    return Corpus(str(root), engineers, files, written, messages, size, first.isoformat(), end.isoformat())


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("root", type=Path)
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--engineers", type=int, default=20)
    ap.add_argument("--zstd", action="store_true")
    a = ap.parse_args()
    print(json.dumps(write_corpus(a.root, a.lines, engineers=a.engineers, compress=a.zstd).as_dict()))
