"""OpenAI Usage API, completions (`GET /v1/organization/usage/completions`).

Tokens and requests per time bucket and group (project, user, API key, model, batch, tier). This
is the metered token source for OpenAI. OpenAI's `input_tokens` INCLUDES cached and cache-write
tokens, so the uncached part is what remains after subtracting both.
"""

from __future__ import annotations

from pathlib import Path

from transforms.sources._registry import SourceSpec

SPEC = SourceSpec(
    id="openai_usage",
    provider="openai",
    publisher="openai",
    publisher_rule="every row",
    format="pages",
    # the natural key: bucket start plus every group dimension as reported (nulls kept distinct)
    natural_key=(
        "period_start",
        "key_project_id",
        "key_user_id",
        "key_api_key_id",
        "model_raw",
        "key_batch",
        "key_service_tier",
    ),
    default_role="metered",
    per_request=False,
    catalog_provider="openai",
    owner="none",
    mapping=Path(__file__).with_suffix(".sql"),
    time_fields=("start_time", "end_time"),
    required=("input_tokens", "output_tokens", "num_model_requests"),
    api="openai:usage",
)
