-- grain: month month
create table mart.leaderboard as

-- Each month's spenders ranked three ways: by spend, by annualized run rate as a share of base, and by cache
-- efficiency (cache reads as a share of all input tokens). Rank 1 is the highest; equal values share a rank.
with monthly as (
    select * from mart.engineer_monthly
    where spend_usd > 0
),

measured as (
    select
        *,
        uncached_input_tokens + cache_read_tokens + cache_write_5m_tokens + cache_write_1h_tokens as input_tokens,
        if(
            uncached_input_tokens + cache_read_tokens + cache_write_5m_tokens + cache_write_1h_tokens = 0,
            null,
            share_div(
                cache_read_tokens::decimal(38, 12),
                (uncached_input_tokens + cache_read_tokens + cache_write_5m_tokens + cache_write_1h_tokens)::decimal(38, 12)
            )
        ) as cache_efficiency
    from monthly
),

final as (
    select
        month,
        engineer_id,
        name,
        team,
        level,
        spend_usd,
        rank() over (partition by month order by spend_usd desc) as spend_rank,
        spend_share_of_base,
        if(spend_share_of_base is null, null, rank() over (
            partition by month order by spend_share_of_base desc nulls last
        )) as share_of_base_rank,
        cache_read_tokens,
        input_tokens,
        cache_efficiency,
        if(cache_efficiency is null, null, rank() over (
            partition by month order by cache_efficiency desc nulls last
        )) as cache_efficiency_rank
    from measured
)

select * from final
order by month, spend_rank, engineer_id;

comment on table mart.leaderboard is 'Each month''s spenders ranked by spend, by run rate as a share of base, and by cache efficiency (rank 1 = highest; ties share a rank).';
comment on column mart.leaderboard.month is 'First day of the month (reporting time zone).';
comment on column mart.leaderboard.engineer_id is 'Engineer.';
comment on column mart.leaderboard.name is 'Display name.';
comment on column mart.leaderboard.team is 'Team at the end of the engineer''s month.';
comment on column mart.leaderboard.level is 'Level at the end of the engineer''s month.';
comment on column mart.leaderboard.spend_usd is 'Token spend in the month, USD.';
comment on column mart.leaderboard.spend_rank is 'Rank by spend_usd.';
comment on column mart.leaderboard.spend_share_of_base is 'Annualized run rate / band base p50 (mart.engineer_monthly); null without a band.';
comment on column mart.leaderboard.share_of_base_rank is 'Rank by spend_share_of_base; null without a band.';
comment on column mart.leaderboard.cache_read_tokens is 'Input tokens read from cache in the month.';
comment on column mart.leaderboard.input_tokens is 'All input tokens: uncached + cache reads + both cache writes.';
comment on column mart.leaderboard.cache_efficiency is 'cache_read_tokens / input_tokens (exact, truncated at 12 decimals); null without input tokens.';
comment on column mart.leaderboard.cache_efficiency_rank is 'Rank by cache_efficiency; null without input tokens.';
