"""Writer of `anthropic_claude_code`: Claude Code analytics report pages, one per UTC day, per actor.

It reports the same Claude Code usage the session logs hold (the simulation's accumulators): a user on a
personal key is everything on that key; a member of a shared key is their own share of it. Tokens sum over
context windows (the report has none) and the estimated cost is the exact list cost in cents, to 1/100
cent. Terminal and remote split are derived from a hash of the email and day, never from the random
stream, so adding this writer moves no byte of any other demo file.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from pipelines.demo.formats import DEC_MARK, dec_text, rfc3339
from pipelines.demo.landing import Landing
from pipelines.demo.prices import list_cost
from pipelines.demo.writers.base import PageProgress, World

SOURCE = "anthropic_claude_code"
_TERMINALS = ("vscode", "iTerm.app", "tmux", "ghostty")
_HUNDREDTH = Decimal("0.01")


def _hash(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("\0".join(parts).encode()).digest()[:8], "big")


def claude_code_tokens(world: World) -> dict[tuple[str, date, str], dict[str, list[int]]]:
    """(email, day, model) → context window → five token kinds, of every Claude Code user's sessions."""
    company, usage = world.company, world.usage
    by_key = {e.anth_key: e for e in company.engs if e.cc and e.shared_key is None and e.anth_key is not None}
    by_eid = {e.eid: e for e in company.engs if e.cc}
    out: dict[tuple[str, date, str], dict[str, list[int]]] = {}

    def add(email: str, day: date, model: str, cw: str, tokens: Sequence[int]) -> None:
        acc = out.setdefault((email, day, model), {}).setdefault(cw, [0, 0, 0, 0, 0])
        for i, v in enumerate(tokens):
            acc[i] += v

    for (day, key, _ws, model, cw), tokens in usage.anth.items():
        if key in by_key:
            add(by_key[key].email, day, model, cw, tokens)
    for (_key, eid, day, model, cw), tokens in usage.shared_use.items():
        add(by_eid[eid].email, day, model, cw, tokens)
    return out


def _entry(world: World, day: date, model: str, by_cw: dict[str, list[int]]) -> dict[str, Any]:
    tokens = [sum(v[i] for v in by_cw.values()) for i in range(5)]
    usd = sum((list_cost(v, world.prices.anthropic(model, day, cw)) for cw, v in sorted(by_cw.items())), Decimal(0))
    cents = (usd * 100).quantize(_HUNDREDTH, rounding=ROUND_HALF_EVEN)
    return {
        "estimated_cost": {"amount": DEC_MARK + dec_text(cents), "currency": "USD"},
        "model": model,
        "tokens": {
            "cache_creation": tokens[2] + tokens[3],
            "cache_read": tokens[1],
            "input": tokens[0],
            "output": tokens[4],
        },
    }


def _record(
    org: str, email: str, day: date, remote: bool, terminal: str, entries: list[dict[str, Any]]
) -> dict[str, Any]:
    out_tokens = sum(e["tokens"]["output"] for e in entries)
    h = _hash(email, day.isoformat(), str(remote))
    return {
        "actor": {"email_address": email, "type": "user_actor"},
        "core_metrics": {
            "commits_by_claude_code": h % 4,
            "lines_of_code": {"added": out_tokens // 40, "removed": out_tokens // 160},
            "num_sessions": 1 + h % 3,
            "pull_requests_by_claude_code": h % 2,
        },
        "customer_type": "api",
        "date": rfc3339(day),
        "is_remote": remote,
        "model_breakdown": entries,
        "organization_id": org,
        "terminal_type": terminal,
        "tool_actions": {
            "edit_tool": {"accepted": 5 + h % 20, "rejected": h % 3},
            "write_tool": {"accepted": 1 + h % 5, "rejected": 0},
        },
        "subscription_type": None,
    }


def write(world: World, landing: Landing, progress: PageProgress | None = None) -> None:
    """One `usage_report_claude_code_NNNN.json` page per day: every Claude Code user active that day.

    A user's day is one local record on their terminal; on about one day in four, when they used more than
    one model, their last model (by name) ran in Claude Code on the web instead: a second, remote record.
    """
    company = world.company
    org = str(uuid.uuid5(uuid.NAMESPACE_DNS, company.domain))
    used = claude_code_tokens(world)
    pages: list[dict[str, Any]] = []
    n_rows = 0
    for day in company.window.days:
        records: list[dict[str, Any]] = []
        for email in sorted({k[0] for k in used if k[1] == day}):
            models = sorted(k[2] for k in used if k[0] == email and k[1] == day)
            entries = [_entry(world, day, m, used[(email, day, m)]) for m in models]
            terminal = _TERMINALS[_hash(email) % len(_TERMINALS)]
            if len(entries) > 1 and _hash(email, day.isoformat()) % 4 == 0:
                records.append(_record(org, email, day, False, terminal, entries[:-1]))
                records.append(_record(org, email, day, True, "web", entries[-1:]))
            else:
                records.append(_record(org, email, day, False, terminal, entries))
            n_rows += len(entries)
        pages.append({"data": records, "has_more": False, "next_page": None})
    landing.pages(SOURCE, "usage_report_claude_code", pages)
    landing.rows[SOURCE] = n_rows
