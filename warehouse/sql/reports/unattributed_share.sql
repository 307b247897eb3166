-- Per month from $first_month to $last_month: spend (core.fct_spend), the part of it that reaches no engineer
-- (mart.unattributed) and that part's share of it, for the months whose share is above $threshold.
-- Months follow the marts (reporting time zone), so the two sums are the ones the marts tie out to.
with spend as (
    select date_trunc('month', usage_date)::date as month, sum(spend_usd)::decimal(38, 12) as spend_usd
    from core.fct_spend
    group by all
),

unattributed as (
    select month, sum(spend_usd)::decimal(38, 12) as unattributed_usd
    from mart.unattributed
    group by all
),

final as (
    select
        spend.month,
        spend.spend_usd,
        coalesce(unattributed.unattributed_usd, 0)::decimal(38, 12) as unattributed_usd,
        share_div(coalesce(unattributed.unattributed_usd, 0), spend.spend_usd) as share
    from spend
    left join unattributed using (month)
    where spend.month between $first_month and $last_month
        and spend.spend_usd > 0
)

select * from final
where share > $threshold
order by month
