"""The tokencomp code location: `dg dev`, `dg check defs` and the `tokencomp` CLI all load these."""

from __future__ import annotations

import dagster as dg

from pipelines.defs.automation import nightly_job, nightly_schedule
from pipelines.defs.ingest import RAW_ASSETS, reference_files
from pipelines.defs.lake import lake_usage, lake_usage_tokens_non_negative
from pipelines.defs.resources import TokencompResource
from pipelines.defs.warehouse import warehouse_duckdb, warehouse_readable
from pipelines.locks import private_files

# `dg dev`, the daemon and their run workers load this module: what their runs write is owner-only too.
private_files()


def build_definitions(tokencomp: TokencompResource | None = None) -> dg.Definitions:
    """All assets, checks, the nightly job and schedule, wired to one TokencompResource."""
    return dg.Definitions(
        assets=[*RAW_ASSETS, reference_files, lake_usage, warehouse_duckdb],
        asset_checks=[lake_usage_tokens_non_negative, warehouse_readable],
        jobs=[nightly_job],
        schedules=[nightly_schedule],
        resources={"tokencomp": tokencomp or TokencompResource()},
    )


defs = build_definitions()
