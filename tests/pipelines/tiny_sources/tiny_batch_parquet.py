"""A test-only batch-job export as Parquet: one row per job and day (job id, day, model, tokens)."""

from __future__ import annotations

from pathlib import Path

from transforms.sources import SourceSpec

SPEC = SourceSpec(
    id="tiny_batch_parquet",
    provider="anthropic",
    publisher="anthropic",
    publisher_rule="every row",
    format="parquet",
    natural_key=("key_job_id", "billing_date", "model_raw"),  # job + day + model
    default_role="observational",
    per_request=False,
    catalog_provider="anthropic",
    owner="none",
    mapping=Path(__file__).with_suffix(".sql"),
    required=("job_id", "day", "model", "input_tokens", "output_tokens"),
)
