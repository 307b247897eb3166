-- Comp mix per level in the month: the mean band base, stock and bonus (median of the market, whole USD per
-- year) of the engineers at the level beside their mean annualized token spend. Money means divide exactly
-- (12 decimals, truncated); the report rounds once, at display. To move to mart.comp_mix when it lands.
with engineers as (
    select * from mart.engineer_monthly
    where month = $month and band_base_p50 is not null
),

banded as (
    -- the band each engineer is matched to (core.engineer_band_monthly, carried by the mart)
    select
        level,
        band_base_p50 as base_p50,
        band_stock_p50 as stock_p50,
        band_bonus_p50 as bonus_p50,
        annualized_run_rate_usd
    from engineers
)

select
    level,
    count(*) as engineers,
    money_div_down(sum(base_p50)::decimal(38, 12), count(*)) as base_usd,
    money_div_down(sum(stock_p50)::decimal(38, 12), count(*)) as stock_usd,
    money_div_down(sum(bonus_p50)::decimal(38, 12), count(*)) as bonus_usd,
    money_div_down(sum(annualized_run_rate_usd), count(*)) as tokens_usd
from banded
group by level
order by level
