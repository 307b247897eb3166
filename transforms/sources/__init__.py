"""Source parsers: raw deliveries of one source id in, canonical usage rows out.

`PARSERS` maps each stable source id (DESIGN.md, "Sources") to its `parse(files)` function.
`LINE_ORIENTED` names the sources whose bad lines are rejected one by one (JSONL, CSV); the other
sources are whole JSON documents, where a structurally broken file is quarantined as a whole.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from transforms.common import ParseResult, RawFile
from transforms.sources import anthropic_cost, anthropic_usage, claude_code_logs, openai_costs, openai_usage

PARSERS: dict[str, Callable[[Sequence[RawFile]], ParseResult]] = {
    "anthropic_usage": anthropic_usage.parse,
    "anthropic_cost": anthropic_cost.parse,
    "openai_usage": openai_usage.parse,
    "openai_costs": openai_costs.parse,
    "claude_code_logs": claude_code_logs.parse,
}

LINE_ORIENTED: frozenset[str] = frozenset({"claude_code_logs"})

__all__ = ["LINE_ORIENTED", "PARSERS"]
