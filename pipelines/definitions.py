"""The tokencomp code location: `dg dev`, `dg check defs` and the `tokencomp` CLI all load these."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import dagster as dg

from pipelines.config import load_settings
from pipelines.defs.automation import build_after_failed_pull, build_after_pull, nightly_job, nightly_schedule, pull_job
from pipelines.defs.ingest import RAW_ASSETS, reference_files
from pipelines.defs.lake import lake_asset, lake_usage_tokens_non_negative
from pipelines.defs.partitions import billing_days
from pipelines.defs.pull import ProviderStep, pull_assets
from pipelines.defs.resources import TokencompResource
from pipelines.defs.warehouse import warehouse_asset, warehouse_readable
from pipelines.locks import private_files

# `dg dev`, the daemon and their run workers load this module: what their runs write is owner-only too.
private_files()


def build_definitions(
    tokencomp: TokencompResource | None = None, provider_steps: Mapping[str, ProviderStep] | None = None
) -> dg.Definitions:
    """All assets, checks, the pull and nightly jobs, schedule and sensors, wired to one TokencompResource.

    Everything that depends on configuration (the partitions' first day, the pulls' retry waits) is built
    here from the resource's own config, never at import time. `provider_steps` replaces
    pipelines.defs.pull.PROVIDER_STEPS (tests)."""
    tokencomp = tokencomp or TokencompResource()
    # read without creating the data dir (`dg check defs` must not write anything)
    settings = load_settings(
        Path(tokencomp.config_path) if tokencomp.config_path else None, data_dir=tokencomp.data_dir
    )
    days = billing_days(settings)
    return dg.Definitions(
        assets=[
            *pull_assets(settings, days, provider_steps),
            *RAW_ASSETS,
            reference_files,
            lake_asset(days),
            warehouse_asset(),
        ],
        asset_checks=[lake_usage_tokens_non_negative, warehouse_readable],
        jobs=[pull_job, nightly_job],
        schedules=[nightly_schedule],
        sensors=[build_after_pull, build_after_failed_pull],
        resources={"tokencomp": tokencomp},
    )


defs = build_definitions()
