"""Writer of `claude_code_logs`: Claude Code session JSONL as it sits on engineers' machines.

Layout: `claude_code_logs/<email>/projects/<project dir>/<session>.jsonl`, and a subagent's sidechain
file in `<session>/subagents/agent-<id>.jsonl`. Session files are written as the simulated engineers
work (`SessionFiles`), so memory stays bounded; `write` then closes the source. Exactly one streamed
line in the whole demo is cut in half, as a crashed client leaves it: the pipeline must skip and count it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from pipelines.demo.formats import dumps, timestamp
from pipelines.demo.landing import Landing, write_text

if TYPE_CHECKING:
    from pipelines.demo.writers.base import PageProgress, World

SOURCE = "claude_code_logs"


def user_line(base: dict[str, Any], parent: str | None, uid: str, day: date, t: int, content: Any) -> str:
    """A user turn: the prompt, or a tool result."""
    return dumps(
        {
            **base,
            "parentUuid": parent,
            "type": "user",
            "message": {"role": "user", "content": content},
            "uuid": uid,
            "timestamp": timestamp(day, t),
        }
    )


def assistant_line(
    base: dict[str, Any],
    parent: str | None,
    req_id: str,
    uid: str,
    day: date,
    t: int,
    model: str,
    msg_id: str,
    block: dict[str, Any],
    stop: str | None,
    tokens: Sequence[int],
    out_tokens: int,
    extra: dict[str, Any] | None = None,
) -> str:
    """One streamed assistant line: usage carries the response's input fields and `out_tokens` so far."""
    return dumps(
        {
            **base,
            **(extra or {}),
            "parentUuid": parent,
            "type": "assistant",
            "requestId": req_id,
            "uuid": uid,
            "timestamp": timestamp(day, t),
            "message": {
                "model": model,
                "id": msg_id,
                "type": "message",
                "role": "assistant",
                "content": [block],
                "stop_reason": stop,
                "stop_sequence": None,
                "usage": {
                    "input_tokens": tokens[0],
                    "cache_creation_input_tokens": tokens[2] + tokens[3],
                    "cache_read_input_tokens": tokens[1],
                    "cache_creation": {
                        "ephemeral_5m_input_tokens": tokens[2],
                        "ephemeral_1h_input_tokens": tokens[3],
                    },
                    "output_tokens": out_tokens,
                    "service_tier": "standard",
                },
            },
        }
    )


def api_error_line(base: dict[str, Any], parent: str | None, uid: str, day: date, t: int, message_id: str) -> str:
    """A synthetic API-error turn (no tokens, model `<synthetic>`), as Claude Code logs an overloaded API."""
    return dumps(
        {
            **base,
            "parentUuid": parent,
            "type": "assistant",
            "uuid": uid,
            "timestamp": timestamp(day, t),
            "isApiErrorMessage": True,
            "message": {
                "model": "<synthetic>",
                "id": message_id,
                "type": "message",
                "role": "assistant",
                "content": [{"type": "text", "text": "API Error: 529 overloaded"}],
                "stop_reason": "stop_sequence",
                "stop_sequence": "",
                "usage": {
                    "input_tokens": 0,
                    "output_tokens": 0,
                    "cache_creation_input_tokens": 0,
                    "cache_read_input_tokens": 0,
                },
            },
        }
    )


def summary_line(summary: str, leaf: str | None) -> str:
    """The session title line Claude Code appends."""
    return dumps({"type": "summary", "summary": summary, "leafUuid": leaf})


class SessionFiles:
    """The session files of one demo run, and the malformed line(s) the truth lists."""

    def __init__(self, landing: Landing) -> None:
        self.landing = landing
        self.malformed: list[dict[str, Any]] = []
        self._first: str | None = None  # first session file written (line 2 = the fallback partial line)

    def _write(self, rel: str, lines: list[str]) -> None:
        self.landing.text(rel, "\n".join(lines) + "\n")
        self.landing.rows[SOURCE] = self.landing.rows.get(SOURCE, 0) + len(lines)

    def session(self, email: str, proj_dir: str, session: str, lines: list[str], malformed_line: int | None) -> None:
        """Write one main session file; `malformed_line` (1-based) is a line the simulation cut short."""
        rel = f"{SOURCE}/{email}/projects/{proj_dir}/{session}.jsonl"
        self._write(rel, lines)
        if malformed_line is not None:
            self.malformed.append({"file": rel, "line": malformed_line})
        if self._first is None:
            self._first = rel

    def subagent(self, email: str, proj_dir: str, session: str, agent: str, lines: list[str]) -> None:
        """Write one subagent (sidechain) file of a session."""
        self._write(f"{SOURCE}/{email}/projects/{proj_dir}/{session}/subagents/agent-{agent}.jsonl", lines)

    def close(self) -> None:
        """Make sure one line is malformed: if the chosen users were idle, cut line 2 of the first session."""
        if self.malformed or self._first is None:
            return
        path = self.landing.root / self._first
        lines = path.read_text(encoding="utf-8").split("\n")
        lines[1] = lines[1][: len(lines[1]) // 2]
        write_text(path, "\n".join(lines))
        self.malformed.append({"file": self._first, "line": 2})


def write(world: World, landing: Landing, progress: PageProgress | None = None) -> None:
    """Close the session files the simulation wrote (they stream out while engineers work)."""
    world.sessions.close()
