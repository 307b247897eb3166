"""What the simulated company used, summed the way the providers' admin reports group it.

The accumulators are the one record of simulated usage: the Anthropic and OpenAI report writers and the
ground truth all read them, so the exports and the truth can never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

AnthKey = tuple[date, str, str | None, str, str]
"""(day, API key, workspace or None for the default workspace, model, context window)."""
OaiKey = tuple[date, str, str | None, str, str]
"""(day, project, OpenAI user or None, API key, model)."""

_K = TypeVar("_K", bound=tuple[object, ...])


def _add(acc: dict[_K, list[int]], key: _K, values: Sequence[int]) -> None:
    row = acc.get(key)
    if row is None:
        acc[key] = list(values)
    else:
        for i, v in enumerate(values):
            row[i] += v


@dataclass
class Usage:
    """Token counts by report grain, by engineer (for the truth), and per member of a shared key."""

    # (uncached, cache read, cache write 5m, cache write 1h, output) per Anthropic report row
    anth: dict[AnthKey, list[int]] = field(default_factory=dict)
    # (input, cached, cache write, uncached, output, requests) per OpenAI report row
    oai: dict[OaiKey, list[int]] = field(default_factory=dict)
    # Anthropic tokens each engineer ran: (engineer id, day, model, window) -> five token kinds
    eng_anth: dict[tuple[str, date, str, str], list[int]] = field(default_factory=dict)
    # OpenAI tokens each engineer ran: (engineer id, day, model) -> (uncached, cached, output)
    eng_oai: dict[tuple[str, date, str], list[int]] = field(default_factory=dict)
    # Claude Code tokens each member sent through their shared key: (key, eid, day, model, cw) -> tokens
    shared_use: dict[tuple[str, str, date, str, str], list[int]] = field(default_factory=dict)

    def add_anth(self, key: AnthKey, tokens: Sequence[int]) -> None:
        """Add tokens to one Anthropic report row."""
        _add(self.anth, key, tokens)

    def add_eng_anth(self, eid: str, day: date, model: str, cw: str, tokens: Sequence[int]) -> None:
        """Add tokens to what one engineer ran on Anthropic."""
        _add(self.eng_anth, (eid, day, model, cw), tokens)

    def add_oai(self, key: OaiKey, row: Sequence[int]) -> None:
        """Add counts to one OpenAI report row."""
        _add(self.oai, key, row)

    def add_shared(self, key: str, eid: str, day: date, model: str, cw: str, tokens: Sequence[int]) -> None:
        """Add tokens a member of a shared key sent through it."""
        _add(self.shared_use, (key, eid, day, model, cw), tokens)


def daily_rows(acc: dict[AnthKey, list[int]], days: Sequence[date]) -> dict[date, list[tuple[AnthKey, list[int]]]]:
    """Report rows per day, in report order (every key part after the day; None sorts first)."""
    by_day: dict[date, list[tuple[AnthKey, list[int]]]] = {d: [] for d in days}
    for k, v in acc.items():
        by_day[k[0]].append((k, v))
    return {
        day: sorted(rows, key=lambda kv: (kv[0][1], kv[0][2] or "", kv[0][3], kv[0][4])) for day, rows in by_day.items()
    }
