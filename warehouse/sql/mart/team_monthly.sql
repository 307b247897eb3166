-- grain: month month
create table mart.team_monthly as

-- Each team's month, from mart.engineer_monthly: head count, spend, tokens, and the team's run rate against
-- the bands of its engineers. Spend that reaches no engineer is in mart.unattributed and mart.chargeback.
with monthly as (
    select * from mart.engineer_monthly
),

final as (
    select
        month,
        team,
        count(*) as engineers,
        count(*) filter (where spend_usd > 0) as spenders,
        count(*) filter (where band_total_p50 is not null) as engineers_with_band,
        sum(spend_usd)::decimal(38, 12) as spend_usd,
        sum(uncached_input_tokens) as uncached_input_tokens,
        sum(cache_read_tokens) as cache_read_tokens,
        sum(cache_write_5m_tokens) as cache_write_5m_tokens,
        sum(cache_write_1h_tokens) as cache_write_1h_tokens,
        sum(output_tokens) as output_tokens,
        sum(annualized_run_rate_usd)::decimal(38, 12) as annualized_run_rate_usd,
        share_div(
            sum(annualized_run_rate_usd) filter (where band_base_p50 is not null),
            sum(band_base_p50) filter (where band_base_p50 is not null)
        ) as spend_share_of_base,
        share_div(
            sum(annualized_run_rate_usd) filter (where band_total_p50 is not null),
            sum(band_total_p50 + annualized_run_rate_usd) filter (where band_total_p50 is not null)
        ) as compute_share
    from monthly
    group by all
)

select * from final
order by month, team;

comment on table mart.team_monthly is 'Each team''s month: engineers, spend, tokens and the team''s annualized run rate against its engineers'' bands.';
comment on column mart.team_monthly.month is 'First day of the month (reporting time zone).';
comment on column mart.team_monthly.team is 'Team (engineers counted in their team at the end of their month).';
comment on column mart.team_monthly.engineers is 'Roster engineers of the team that month, non-spenders included.';
comment on column mart.team_monthly.spenders is 'Engineers with any spend that month.';
comment on column mart.team_monthly.engineers_with_band is 'Engineers with a market band (the shares below use only them).';
comment on column mart.team_monthly.spend_usd is 'Token spend of the team''s engineers in the month, USD.';
comment on column mart.team_monthly.uncached_input_tokens is 'Metered input tokens neither read from nor written to cache.';
comment on column mart.team_monthly.cache_read_tokens is 'Metered input tokens read from cache.';
comment on column mart.team_monthly.cache_write_5m_tokens is 'Metered input tokens written to a 5-minute cache.';
comment on column mart.team_monthly.cache_write_1h_tokens is 'Metered input tokens written to a 1-hour cache.';
comment on column mart.team_monthly.output_tokens is 'Metered output tokens.';
comment on column mart.team_monthly.annualized_run_rate_usd is 'Sum of the engineers'' annualized run rates, USD per year.';
comment on column mart.team_monthly.spend_share_of_base is 'Run rate of engineers with a band over the sum of their bands'' base p50.';
comment on column mart.team_monthly.compute_share is 'Their run rate over their fully loaded comp (band total p50 + run rate), summed over engineers.';
