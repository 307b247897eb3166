"""The tokencomp code location: `dg dev`, `dg check defs` and the `tokencomp` CLI all load these."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import dagster as dg

from pipelines.config import load_settings
from pipelines.defs.automation import (
    build_after_failed_pull,
    build_after_pull,
    month_close_schedule,
    nightly_job,
    nightly_schedule,
    pull_job,
)
from pipelines.defs.checks import build_checks
from pipelines.defs.ingest import RAW_ASSETS, reference_files
from pipelines.defs.lake import lake_asset
from pipelines.defs.months import close_job, month_assets, month_close_job, reprice_job
from pipelines.defs.partitions import billing_days, billing_months
from pipelines.defs.pull import ProviderStep, pull_assets
from pipelines.defs.resources import TokencompResource
from pipelines.defs.sensors import ingest_landing_job, landing_sensor
from pipelines.defs.warehouse import warehouse_asset, warehouse_readable
from pipelines.locks import private_files

# `dg dev`, the daemon and their run workers load this module: what their runs write is owner-only too.
private_files()


def build_definitions(
    tokencomp: TokencompResource | None = None, provider_steps: Mapping[str, ProviderStep] | None = None
) -> dg.Definitions:
    """All assets, checks, jobs (pull, nightly; close, reprice, month_close), schedules and sensors, wired to one
    TokencompResource.

    Everything that depends on configuration (the partitions' first day, the pulls' retry waits, the schedules'
    times) is built
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
            *month_assets(billing_months(settings)),
        ],
        asset_checks=[*build_checks(settings), warehouse_readable],
        jobs=[pull_job, nightly_job, ingest_landing_job, close_job, reprice_job, month_close_job],
        schedules=[nightly_schedule(settings), month_close_schedule(settings)],
        sensors=[build_after_pull, build_after_failed_pull, landing_sensor(settings)],
        resources={"tokencomp": tokencomp},
    )


defs = build_definitions()
