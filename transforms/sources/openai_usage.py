"""OpenAI Usage API (`GET /v1/organization/usage/<endpoint>`): completions and its siblings.

Tokens and requests per time bucket and group (project, user, API key, model, and each endpoint's own
pricing dimensions: batch and tier, image size and source, vector store, search context). This is the
metered token source for OpenAI. A page's endpoint is recognised by its results' `object`. OpenAI's
`input_tokens` INCLUDES cached and cache-write tokens, so the uncached part is what remains after
subtracting both. Images, speech, transcription and tool calls carry their unit as `quantity`.
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
        "key_endpoint",
        "key_project_id",
        "key_user_id",
        "key_api_key_id",
        "model_raw",
        "key_batch",
        "key_service_tier",
        "key_size",
        "key_source",
        "key_vector_store_id",
        "key_context_level",
    ),
    default_role="metered",
    per_request=False,
    catalog_provider="openai",
    owner="none",
    mapping=Path(__file__).with_suffix(".sql"),
    time_fields=("start_time", "end_time"),
    # `object` names the endpoint; each endpoint's own fields are checked record by record in the mapping
    required=("object",),
    api="openai:usage",
)
