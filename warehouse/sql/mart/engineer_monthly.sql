create table mart.engineer_monthly as

with engineers as (
    select * from core.dim_engineer
),

bands as (
    select * from core.dim_salary_band
    where company = $benchmark_company
),

spend as (
    select * from core.fct_spend
    where engineer_id is not null
),

data_window as (
    select min(usage_date) as first_day, max(usage_date) as last_day from core.fct_usage_daily
),

months as (
    select unnest(generate_series(
        date_trunc('month', first_day), date_trunc('month', last_day), interval 1 month
    ))::date as month
    from data_window
    where first_day is not null
),

engineer_months as (
    -- one row per engineer and month they were on the roster within the data window;
    -- the roster row in force on their last active day of the month gives team, level and band
    select
        months.month,
        engineers.*,
        greatest(months.month, data_window.first_day, engineers.valid_from) as active_from,
        least(
            (months.month + interval 1 month)::date - 1,
            data_window.last_day,
            coalesce(engineers.valid_to - 1, data_window.last_day)
        ) as active_to
    from months
    cross join data_window
    inner join engineers
        on engineers.valid_from <= least((months.month + interval 1 month)::date - 1, data_window.last_day)
        and (engineers.valid_to is null or engineers.valid_to > greatest(months.month, data_window.first_day))
),

current_rows as (
    select
        *,
        row_number() over (partition by engineer_id, month order by valid_from desc) as rn,
        sum(active_to - active_from + 1) over (partition by engineer_id, month) as days_active
    from engineer_months
),

monthly_spend as (
    select
        engineer_id,
        date_trunc('month', usage_date)::date as month,
        sum(spend_usd)::decimal(38, 12) as spend_usd,
        sum(uncached_input_tokens) as uncached_input_tokens,
        sum(cache_read_tokens) as cache_read_tokens,
        sum(cache_write_5m_tokens) as cache_write_5m_tokens,
        sum(cache_write_1h_tokens) as cache_write_1h_tokens,
        sum(output_tokens) as output_tokens
    from spend
    group by all
),

joined as (
    select
        current_rows.month,
        current_rows.engineer_id,
        current_rows.email,
        current_rows.name,
        current_rows.team,
        current_rows.cost_centre,
        current_rows.level,
        current_rows.title,
        current_rows.location,
        current_rows.days_active,
        coalesce(monthly_spend.spend_usd, 0)::decimal(38, 12) as spend_usd,
        coalesce(monthly_spend.uncached_input_tokens, 0) as uncached_input_tokens,
        coalesce(monthly_spend.cache_read_tokens, 0) as cache_read_tokens,
        coalesce(monthly_spend.cache_write_5m_tokens, 0) as cache_write_5m_tokens,
        coalesce(monthly_spend.cache_write_1h_tokens, 0) as cache_write_1h_tokens,
        coalesce(monthly_spend.output_tokens, 0) as output_tokens,
        bands.company as band_company,
        bands.base_p50 as band_base_p50,
        bands.total_p50 as band_total_p50,
        bands.submissions as band_submissions,
        bands.as_of as band_as_of
    from current_rows
    left join monthly_spend
        on monthly_spend.engineer_id = current_rows.engineer_id
        and monthly_spend.month = current_rows.month
    left join bands
        on bands.title = current_rows.title
        and bands.level = current_rows.level
        and bands.location = current_rows.location
    where current_rows.rn = 1
),

final as (
    select
        *,
        money_div_down(spend_usd * 365, days_active) as annualized_run_rate_usd,
        -- shares are exact at 12 decimals; reports and the CLI round once, at display
        share_div(money_div_down(spend_usd * 365, days_active), band_base_p50) as spend_share_of_base,
        band_total_p50 + money_div_down(spend_usd * 365, days_active) as total_comp_with_tokens_usd,
        share_div(
            money_div_down(spend_usd * 365, days_active), band_total_p50 + money_div_down(spend_usd * 365, days_active)
        ) as compute_share
    from joined
)

select * from final
order by month, engineer_id;

comment on table mart.engineer_monthly is 'One row per roster engineer per month of data, non-spenders included: token spend, tokens by kind, the market pay band and how spend compares with it.';
comment on column mart.engineer_monthly.month is 'First day of the month (reporting time zone).';
comment on column mart.engineer_monthly.engineer_id is 'Engineer.';
comment on column mart.engineer_monthly.email is 'Work email.';
comment on column mart.engineer_monthly.name is 'Display name.';
comment on column mart.engineer_monthly.team is 'Team at the end of the engineer''s month.';
comment on column mart.engineer_monthly.cost_centre is 'Cost centre at the end of the engineer''s month.';
comment on column mart.engineer_monthly.level is 'Level at the end of the engineer''s month (after a promotion, the new level).';
comment on column mart.engineer_monthly.title is 'Title at the end of the engineer''s month.';
comment on column mart.engineer_monthly.location is 'Location at the end of the engineer''s month.';
comment on column mart.engineer_monthly.days_active is 'Days of the month the engineer was employed and data covers; the run-rate divides by it.';
comment on column mart.engineer_monthly.spend_usd is 'Token spend in the month, USD (0 for non-spenders).';
comment on column mart.engineer_monthly.uncached_input_tokens is 'Metered input tokens neither read from nor written to cache.';
comment on column mart.engineer_monthly.cache_read_tokens is 'Metered input tokens read from cache.';
comment on column mart.engineer_monthly.cache_write_5m_tokens is 'Metered input tokens written to a 5-minute cache.';
comment on column mart.engineer_monthly.cache_write_1h_tokens is 'Metered input tokens written to a 1-hour cache.';
comment on column mart.engineer_monthly.output_tokens is 'Metered output tokens.';
comment on column mart.engineer_monthly.band_company is 'Benchmark company of the band (config bands.benchmark_company); null when no band matches.';
comment on column mart.engineer_monthly.band_base_p50 is 'Median market base salary for the engineer''s title, level and location, whole USD per year.';
comment on column mart.engineer_monthly.band_total_p50 is 'Median market total compensation for the same band, whole USD per year.';
comment on column mart.engineer_monthly.band_submissions is 'Submissions behind the band.';
comment on column mart.engineer_monthly.band_as_of is 'Date of the newest submission in the band.';
comment on column mart.engineer_monthly.annualized_run_rate_usd is 'Spend per active day times 365, USD per year.';
comment on column mart.engineer_monthly.spend_share_of_base is 'Annualized token spend as a share of the band''s median base salary (1.0 = tokens cost as much as base pay).';
comment on column mart.engineer_monthly.total_comp_with_tokens_usd is 'Market total compensation (band total p50) plus annualized token spend, USD per year.';
comment on column mart.engineer_monthly.compute_share is 'Share of that total that is compute: annualized tokens / (band total p50 + annualized tokens).';
