-- Blocking check run before publishing: the warehouse reproduces the lake's dollars exactly.
-- A fan-out (an identity matching two engineers) or a dropped row breaks one of these equalities.
with lake as (
    select
        coalesce(sum(list_cost_usd), 0)::decimal(38, 12) as list_usd,
        coalesce(sum(billed_cost_usd), 0)::decimal(38, 12) as billed_usd,
        coalesce(sum(list_cost_usd) filter (where spend_role = 'metered'), 0)::decimal(38, 12) as metered_usd
    from src_usage
),

usage as (
    select
        coalesce(sum(list_cost_usd), 0)::decimal(38, 12) as list_usd,
        coalesce(sum(billed_cost_usd), 0)::decimal(38, 12) as billed_usd
    from core.fct_usage_daily
),

spend as (
    select coalesce(sum(spend_usd), 0)::decimal(38, 12) as metered_usd from core.fct_spend
),

billed as (
    select coalesce(sum(billed_usd), 0)::decimal(38, 12) as billed_usd from core.fct_billed_daily
),

final as (
    select
        lake.list_usd as lake_list_usd,
        usage.list_usd as usage_list_usd,
        lake.billed_usd as lake_billed_usd,
        usage.billed_usd as usage_billed_usd,
        billed.billed_usd as fct_billed_usd,
        lake.metered_usd as lake_metered_usd,
        spend.metered_usd as fct_spend_usd
    from lake, usage, spend, billed
)

select * from final
