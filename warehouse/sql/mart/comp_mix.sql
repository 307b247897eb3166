-- grain: month month
create table mart.comp_mix as

-- The four components of pay per month, for the whole company, each level and each team: base, stock and
-- bonus from the engineers' bands (p50 of each band), tokens from the annualized run rate, each at the median
-- and the 90th percentile of the group's engineers. Engineers without a band are counted apart.
with monthly as (
    select * from mart.engineer_monthly
),

grouped as (
    select month, 'company' as grouping, 'all engineers' as group_name, * exclude (month) from monthly
    union all
    select month, 'level' as grouping, level as group_name, * exclude (month) from monthly
    union all
    select month, 'team' as grouping, team as group_name, * exclude (month) from monthly
),

lists as (
    select
        month,
        grouping,
        group_name,
        count(*) as engineers,
        count(*) filter (where band_total_p50 is null) as engineers_without_band,
        list(band_base_p50) filter (where band_total_p50 is not null) as bases,
        list(band_stock_p50) filter (where band_total_p50 is not null and band_stock_p50 is not null) as stocks,
        list(band_bonus_p50) filter (where band_total_p50 is not null and band_bonus_p50 is not null) as bonuses,
        list(annualized_run_rate_usd) filter (where band_total_p50 is not null) as tokens,
        list(compute_share) filter (where band_total_p50 is not null) as shares
    from grouped
    group by all
),

percentiles as (
    select
        month,
        grouping,
        group_name,
        engineers,
        engineers_without_band,
        money_quantile(bases, 50) as base_p50,
        money_quantile(bases, 90) as base_p90,
        money_quantile(stocks, 50) as stock_p50,
        money_quantile(stocks, 90) as stock_p90,
        money_quantile(bonuses, 50) as bonus_p50,
        money_quantile(bonuses, 90) as bonus_p90,
        money_quantile(tokens, 50) as tokens_p50,
        money_quantile(tokens, 90) as tokens_p90,
        money_quantile(shares, 50) as compute_share_p50,
        money_quantile(shares, 90) as compute_share_p90
    from lists
),

one_in as (
    select
        *,
        if(compute_share_p50 > 0, round(money_div(1, compute_share_p50), 0)::bigint, null) as one_dollar_in_p50,
        if(compute_share_p90 > 0, round(money_div(1, compute_share_p90), 0)::bigint, null) as one_dollar_in_p90
    from percentiles
),

final as (
    select
        *,
        case
            when compute_share_p90 is null then 'no engineer with a band'
            when one_dollar_in_p50 is null and one_dollar_in_p90 is null then 'no dollar of fully loaded pay goes to compute'
            when one_dollar_in_p50 is null then
                'at the median engineer no dollar goes to compute; at the 90th percentile one dollar in '
                || format('{:,}', one_dollar_in_p90) || ' of fully loaded pay does'
            else
                'one dollar in ' || format('{:,}', one_dollar_in_p50)
                || ' of fully loaded pay goes to compute at the median engineer; one in '
                || format('{:,}', one_dollar_in_p90) || ' at the 90th percentile'
        end as sentence
    from one_in
)

select * from final
order by month, grouping, group_name;

comment on table mart.comp_mix is 'The four components of engineering pay per month, for the company, each level and each team: base, stock and bonus from the market bands beside annualized token spend, and tokens as a share of fully loaded comp (band total p50 + annualized tokens), at the median and the 90th percentile of engineers.';
comment on column mart.comp_mix.month is 'First day of the month (reporting time zone).';
comment on column mart.comp_mix.grouping is 'company (every engineer), level or team.';
comment on column mart.comp_mix.group_name is 'The level or team; all engineers for the company row.';
comment on column mart.comp_mix.engineers is 'Roster engineers in the group that month, with or without a band.';
comment on column mart.comp_mix.engineers_without_band is 'Of those, engineers with no band: left out of every percentile.';
comment on column mart.comp_mix.base_p50 is 'Median, across the group''s engineers, of their band''s base p50, USD per year.';
comment on column mart.comp_mix.base_p90 is '90th percentile, across engineers, of their band''s base p50, USD per year.';
comment on column mart.comp_mix.stock_p50 is 'Median, across engineers, of their band''s stock p50, USD per year.';
comment on column mart.comp_mix.stock_p90 is '90th percentile, across engineers, of their band''s stock p50, USD per year.';
comment on column mart.comp_mix.bonus_p50 is 'Median, across engineers, of their band''s bonus p50, USD per year.';
comment on column mart.comp_mix.bonus_p90 is '90th percentile, across engineers, of their band''s bonus p50, USD per year.';
comment on column mart.comp_mix.tokens_p50 is 'Median annualized token run rate of the group''s engineers, USD per year.';
comment on column mart.comp_mix.tokens_p90 is '90th percentile annualized token run rate, USD per year.';
comment on column mart.comp_mix.compute_share_p50 is 'Median, across engineers, of tokens as a share of fully loaded comp (annualized tokens / (band total p50 + annualized tokens)).';
comment on column mart.comp_mix.compute_share_p90 is '90th percentile of that share across engineers.';
comment on column mart.comp_mix.one_dollar_in_p50 is 'N in "one dollar in N goes to compute" at the median engineer: 1 / compute_share_p50, rounded; null when it is 0.';
comment on column mart.comp_mix.one_dollar_in_p90 is 'The same at the 90th percentile: 1 / compute_share_p90, rounded.';
comment on column mart.comp_mix.sentence is 'The mix in words: one dollar in N of fully loaded pay goes to compute, at the median and at p90.';
