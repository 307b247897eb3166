"""Claude Code analytics report of the Anthropic Admin API (`GET /v1/organizations/usage_report/claude_code`).

One record per actor, UTC day, terminal and local/remote, with a `model_breakdown` of tokens and an
*estimated* cost in cents per model; a page's `data` items are the records themselves (no buckets). The
actor is a user (an email) or an API key (its name), never both. Observational: it names who used
Claude Code and what it cost at list price, and is never summed into spend. One canonical row per
(record, model); the estimate is kept as `amount_original` in USD, list cost comes from the pricing join.
"""

from __future__ import annotations

from pathlib import Path

from transforms.sources._registry import SourceSpec

SPEC = SourceSpec(
    id="anthropic_claude_code",
    provider="anthropic",
    publisher="anthropic",
    publisher_rule="every row",
    format="pages",
    # the natural key (DESIGN "Sources"): date + actor + model + terminal/remote
    natural_key=(
        "period_start",
        "principal_kind",
        "principal_id",
        "model_raw",
        "key_terminal_type",
        "key_is_remote",
    ),
    default_role="observational",
    per_request=False,
    catalog_provider="anthropic",
    owner="none",
    mapping=Path(__file__).with_suffix(".sql"),
    time_fields=("date", None),
    required=(),
    records_field=None,
    api="anthropic:usage_report/claude_code",
)
