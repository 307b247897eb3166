"""The nightly job over every asset, and its schedule (03:00 UTC, yesterday's billing day)."""

import dagster as dg

nightly_job = dg.define_asset_job(
    "nightly",
    selection=dg.AssetSelection.all(),
    description="Ingest landing/, rebuild the lake for the partition window, then build and publish the warehouse.",
)

nightly_schedule = dg.build_schedule_from_partitioned_job(nightly_job, hour_of_day=3)
