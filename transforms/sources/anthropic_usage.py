"""Anthropic Admin API messages usage report (`GET /v1/organizations/usage_report/messages`).

Tokens per time bucket and group (account, API key, workspace, model, tier, ...). This is the
metered token source for Anthropic; it carries no money. Anthropic reports the input kinds apart
(uncached, cache read, 5-minute and 1-hour cache writes), so nothing is subtracted.
"""

from __future__ import annotations

from pathlib import Path

from transforms.sources._registry import SourceSpec

SPEC = SourceSpec(
    id="anthropic_usage",
    provider="anthropic",
    publisher="anthropic",
    publisher_rule="every row",
    format="pages",
    # the natural key: bucket start plus every group dimension as reported (nulls kept distinct)
    natural_key=(
        "period_start",
        "key_account_id",
        "key_api_key_id",
        "key_service_account_id",
        "key_workspace_id",
        "model_raw",
        "service_tier",
        "context_window",
        "inference_geo",
        "speed",
    ),
    default_role="metered",
    per_request=False,
    catalog_provider="anthropic",
    owner="none",
    mapping=Path(__file__).with_suffix(".sql"),
    api="anthropic:usage_report/messages",
    time_fields=("starting_at", "ending_at"),
    required=("uncached_input_tokens", "cache_read_input_tokens", "output_tokens"),
)
