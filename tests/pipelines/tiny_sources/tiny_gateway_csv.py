"""A test-only gateway spend log as CSV: one request per line (request id, time, user, model, tokens)."""

from __future__ import annotations

from pathlib import Path

from transforms.sources import SourceSpec

SPEC = SourceSpec(
    id="tiny_gateway_csv",
    provider="openai",
    publisher="openai",
    publisher_rule="every row",
    format="csv",
    natural_key=("key_request_id",),  # the gateway's request id
    default_role="observational",
    per_request=True,
    catalog_provider="openai",
    owner="none",
    mapping=Path(__file__).with_suffix(".sql"),
    required=("request_id", "started_at", "user", "model", "input_tokens", "output_tokens"),
)
