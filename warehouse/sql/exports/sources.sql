-- Freshness of the data behind an export (the cover sheet): per source, its provider and spend role, the first
-- and last UTC billing day the warehouse holds, and how many days before the month's end the data stops.
with usage as (
    select * from core.fct_usage_daily
),

final as (
    select
        source,
        provider,
        spend_role,
        min(billing_date) as first_day,
        max(billing_date) as data_through,
        greatest(
            0, date_diff('day', max(billing_date), ($month::date + interval 1 month)::date - 1)
        ) as days_short_of_month_end,
        count(*) as warehouse_rows
    from usage
    group by all
)

select * from final
order by source, provider, spend_role
