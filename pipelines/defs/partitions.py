"""Daily UTC partitions by billing_date, starting at the configured first partition date."""

import dagster as dg

from pipelines.config import load_settings


def billing_days() -> dg.DailyPartitionsDefinition:
    """One partition per provider UTC billing day, from `pipeline.first_partition_date` (default 2024-01-01)."""
    start = load_settings().first_partition_date
    return dg.DailyPartitionsDefinition(start_date=start.isoformat(), timezone="UTC", end_offset=0)
