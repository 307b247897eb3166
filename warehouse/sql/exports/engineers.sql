-- Per-engineer figures for one month (`$month`): spend, tokens by kind, the market band, spend as a share of
-- base pay, fully loaded comp (band total p50 + annualized tokens) and the compute share; non-spenders included.
with engineers as (
    select * from mart.engineer_monthly
    where month = $month
),

final as (
    select
        row_number() over (order by engineer_id) as row_no,
        month,
        $status as status,
        engineer_id,
        name,
        email,
        team,
        cost_centre,
        level,
        title,
        location,
        days_active,
        spend_usd::decimal(38, 12) as spend_usd,
        uncached_input_tokens,
        cache_read_tokens,
        cache_write_5m_tokens,
        cache_write_1h_tokens,
        output_tokens,
        band_company,
        band_base_p50::decimal(38, 12) as band_base_p50_usd,
        band_total_p50::decimal(38, 12) as band_total_p50_usd,
        band_as_of,
        annualized_run_rate_usd::decimal(38, 12) as annualized_run_rate_usd,
        round(spend_share_of_base, 6)::decimal(18, 6) as spend_share_of_base_pct,
        total_comp_with_tokens_usd::decimal(38, 12) as total_comp_with_tokens_usd,
        round(compute_share, 6)::decimal(18, 6) as compute_share_pct
    from engineers
)

select * from final
order by row_no
