"""Anthropic Admin API cost report (`GET /v1/organizations/cost_report`).

Billed dollars per day, workspace and description (model × token kind, web search, code
execution). `amount` is a decimal string in CENTS, converted to dollars exactly.
"""

from __future__ import annotations

from pathlib import Path

from transforms.sources._registry import SourceSpec

SPEC = SourceSpec(
    id="anthropic_cost",
    provider="anthropic",
    publisher="anthropic",
    publisher_rule="rows that name a model",
    format="pages",
    # the natural key: bucket start + workspace + the description fields (nulls kept distinct)
    natural_key=(
        "period_start",
        "key_workspace_id",
        "line_item",
        "key_cost_type",
        "model_raw",
        "key_token_type",
        "service_tier",
        "context_window",
        "inference_geo",
    ),
    default_role="billed",
    per_request=False,
    catalog_provider="anthropic",
    owner="none",
    mapping=Path(__file__).with_suffix(".sql"),
    api="anthropic:cost_report",
    time_fields=("starting_at", "ending_at"),
    required=("amount", "currency"),
)
