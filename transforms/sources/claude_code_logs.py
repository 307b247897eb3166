"""Claude Code session logs (JSONL) collected from engineers' machines.

Claude Code writes one line per streamed content block, so one API response appears on several
lines sharing `message.id` with growing `output_tokens`; sidechain files replay parent messages
under a new `requestId`. The file carries no identity: the engineer is the delivery's folder
owner. One canonical row per (engineer, `message.id`) across every file and delivery: the max
output, the input and cache fields once, the earliest timestamp. No money: `costUSD` is ignored.
"""

from __future__ import annotations

from pathlib import Path

from transforms.sources._registry import SourceSpec

SPEC = SourceSpec(
    id="claude_code_logs",
    provider="anthropic",
    publisher="anthropic",
    publisher_rule="every row",
    format="jsonl",
    # the natural key: engineer (the delivery's folder owner) + message.id
    natural_key=(
        "owner",
        "message_id",
    ),
    default_role="observational",
    per_request=True,
    catalog_provider="anthropic",
    owner="email_folder",
    mapping=Path(__file__).with_suffix(".sql"),
    time_fields=None,
    required=(),
)
