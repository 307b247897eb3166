"""OpenAI Costs API (`GET /v1/organization/costs`).

Billed dollars per day, project and line item. `amount.value` is a JSON number in DOLLARS that
may carry binary-float noise (0.8023212500000001); it is read through its decimal text and
rounded once at 12 places, never through a binary float cast.
"""

from __future__ import annotations

from pathlib import Path

from transforms.sources._registry import SourceSpec

SPEC = SourceSpec(
    id="openai_costs",
    provider="openai",
    publisher=None,
    publisher_rule="none (cost lines name no model)",
    format="pages",
    # the natural key: bucket start + project + line item + API key (nulls kept distinct)
    natural_key=(
        "period_start",
        "key_project_id",
        "line_item",
        "key_api_key_id",
    ),
    default_role="billed",
    per_request=False,
    catalog_provider="openai",
    owner="none",
    mapping=Path(__file__).with_suffix(".sql"),
    time_fields=("start_time", "end_time"),
    required=("amount.value", "amount.currency"),
    api="openai:costs",
)
