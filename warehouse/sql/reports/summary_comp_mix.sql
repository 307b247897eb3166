-- Comp mix per level in the month: the mean band base, stock and bonus (median of the market, whole USD per
-- year) of the engineers at the level beside their mean annualized token spend. Money means divide exactly
-- (12 decimals, truncated); the report rounds once, at display. To move to mart.comp_mix when it lands.
with engineers as (
    select * from mart.engineer_monthly
    where month = $month and band_base_p50 is not null
),

bands as (
    select * from core.dim_salary_band
),

banded as (
    select
        engineers.level,
        bands.base_p50,
        bands.stock_p50,
        bands.bonus_p50,
        engineers.annualized_run_rate_usd
    from engineers
    inner join bands
        on bands.company = engineers.band_company
        and bands.title = engineers.title
        and bands.level = engineers.level
        and bands.location = engineers.location
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
