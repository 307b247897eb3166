-- Blocking check (DESIGN invariant 1): the marts sum to core.fct_spend. Per provider and month (reporting
-- time zone), engineers' spend (mart.engineer_provider_monthly) plus mart.unattributed equals core.fct_spend;
-- and per engineer and month, mart.engineer_monthly.spend_usd equals its provider breakdown, so an engineer
-- the monthly mart drops (spend outside their roster dates) fails the check instead of vanishing.
with spend as (
    select
        provider,
        date_trunc('month', usage_date)::date as month,
        coalesce(sum(spend_usd), 0)::decimal(38, 12) as spend_usd
    from core.fct_spend
    group by all
),

engineers as (
    select provider, month, sum(spend_usd) as spend_usd from mart.engineer_provider_monthly group by all
),

unattributed as (
    select provider, month, sum(spend_usd) as spend_usd from mart.unattributed group by all
),

by_provider as (
    select
        'provider' as grain,
        provider as key,
        month,
        coalesce(spend.spend_usd, 0)::decimal(38, 12) as expected_usd,
        (coalesce(engineers.spend_usd, 0) + coalesce(unattributed.spend_usd, 0))::decimal(38, 12) as marts_usd
    from spend
    full outer join engineers using (provider, month)
    full outer join unattributed using (provider, month)
),

breakdown as (
    select engineer_id, month, sum(spend_usd) as spend_usd from mart.engineer_provider_monthly group by all
),

monthly as (
    select engineer_id, month, spend_usd from mart.engineer_monthly
),

by_engineer as (
    select
        'engineer' as grain,
        engineer_id as key,
        month,
        coalesce(breakdown.spend_usd, 0)::decimal(38, 12) as expected_usd,
        coalesce(monthly.spend_usd, 0)::decimal(38, 12) as marts_usd
    from breakdown
    full outer join monthly using (engineer_id, month)
),

final as (
    select * from by_provider
    union all
    select * from by_engineer
)

select * from final
where expected_usd <> marts_usd
order by grain desc, month, key
