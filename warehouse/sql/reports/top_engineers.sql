-- The engineers with the most token spend over the data window, against their band's base salary.
with monthly as (
    select * from mart.engineer_monthly
),

per_engineer as (
    select
        engineer_id,
        arg_max(name, month) as name,
        arg_max(team, month) as team,
        arg_max(level, month) as level,
        arg_max(location, month) as location,
        arg_max(band_base_p50, month) as band_base_p50,
        sum(spend_usd)::decimal(38, 12) as spend_usd,
        sum(days_active) as days_active
    from monthly
    group by engineer_id
),

annualized as (
    select
        *,
        money_div_down(spend_usd * 365, days_active) as annualized_usd
    from per_engineer
    where spend_usd > 0
),

-- full precision (12 decimals, exact decimal division): the CLI rounds once, at display
final as (
    select
        * replace (round(band_base_p50)::bigint as band_base_p50),
        share_div(annualized_usd, band_base_p50) as share_of_base
    from annualized
)

select * from final
order by spend_usd desc, engineer_id
limit $limit
