-- Spend, its list-price equivalent, what was billed and what no engineer carries, per provider.
with spend as (
    select
        provider,
        sum(spend_usd) as spend_usd,
        sum(list_cost_usd) as list_usd,
        sum(spend_usd) filter (where unattributed) as unattributed_usd
    from core.fct_spend
    group by provider
),

billed as (
    select provider, sum(billed_usd) as billed_usd from core.fct_billed_daily group by provider
),

final as (
    select
        coalesce(spend.provider, billed.provider) as provider,
        coalesce(spend.spend_usd, 0)::decimal(38, 12) as spend_usd,
        coalesce(spend.list_usd, 0)::decimal(38, 12) as list_usd,
        coalesce(spend.unattributed_usd, 0)::decimal(38, 12) as unattributed_usd,
        coalesce(billed.billed_usd, 0)::decimal(38, 12) as billed_usd
    from spend
    full outer join billed on billed.provider = spend.provider
)

select * from final
order by spend_usd desc, provider
