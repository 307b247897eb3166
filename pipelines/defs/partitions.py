"""Daily UTC partitions by billing_date, starting at the configured first partition date."""

from datetime import date, timedelta

import dagster as dg

from pipelines.config import Settings


def billing_days(settings: Settings) -> dg.DailyPartitionsDefinition:
    """One partition per provider UTC billing day, from `pipeline.first_partition_date` of `settings` (the
    resource's config, so `--config` with another start date and the partitions agree)."""
    start = settings.first_partition_date
    return dg.DailyPartitionsDefinition(start_date=start.isoformat(), timezone="UTC", end_offset=0)


def window(context: dg.AssetExecutionContext) -> tuple[date, date]:
    """The inclusive [first, last] billing days this run materializes."""
    tw = context.partition_time_window if context.has_partition_key_range or context.has_partition_key else None
    if tw is None:
        raise dg.Failure(f"{context.asset_key.to_user_string()} is partitioned: run it for a date or a date range")
    return tw.start.date(), (tw.end - timedelta(days=1)).date()


def billing_months(settings: Settings) -> dg.MonthlyPartitionsDefinition:
    """One partition per calendar month of UTC billing days (keys `YYYY-MM`, as `tokencomp close --month` takes
    them), from the month of `pipeline.first_partition_date` through the current one: what finance closes and
    exports."""
    first = settings.first_partition_date.replace(day=1)
    return dg.MonthlyPartitionsDefinition(start_date=f"{first:%Y-%m}", fmt="%Y-%m", timezone="UTC", end_offset=1)


def month_of(context: dg.AssetExecutionContext) -> date:
    """The first day of the month this run materializes (a monthly asset runs one month at a time)."""
    if not context.has_partition_key:
        raise dg.Failure(f"{context.asset_key.to_user_string()} is monthly: run it for one month (YYYY-MM)")
    return date.fromisoformat(f"{context.partition_key}-01")
