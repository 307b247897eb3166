-- grain: month month; trailing 90 days; edges core.fct_usage_daily(usage_date)
create table mart.engineer_monthly as

with engineers as (
    select * from core.dim_engineer
),

bands as (
    select * from core.engineer_band_monthly
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
    -- the roster row in force on their last active day of the month gives team, level and title
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

run_rate_windows as (
    -- the trailing 90 days ending at the month's last day with data
    select
        current_rows.engineer_id,
        current_rows.month,
        least((current_rows.month + interval 1 month)::date - 1, data_window.last_day) as window_end,
        least((current_rows.month + interval 1 month)::date - 1, data_window.last_day) - 89 as window_start,
        data_window.first_day
    from current_rows
    cross join data_window
    where current_rows.rn = 1
),

run_rate_days as (
    -- days on the roster within the window that the data covers (roster rows of one engineer never overlap)
    select
        run_rate_windows.engineer_id,
        run_rate_windows.month,
        sum(
            greatest(
                0,
                least(run_rate_windows.window_end, coalesce(engineers.valid_to - 1, run_rate_windows.window_end))
                - greatest(run_rate_windows.window_start, run_rate_windows.first_day, engineers.valid_from)
                + 1
            )
        ) as run_rate_days
    from run_rate_windows
    inner join engineers on engineers.engineer_id = run_rate_windows.engineer_id
    group by all
),

daily_spend as (
    select engineer_id, usage_date, sum(spend_usd)::decimal(38, 12) as spend_usd
    from spend
    group by all
),

run_rate_spend as (
    select
        run_rate_windows.engineer_id,
        run_rate_windows.month,
        coalesce(sum(daily_spend.spend_usd), 0)::decimal(38, 12) as run_rate_spend_usd
    from run_rate_windows
    left join daily_spend
        on daily_spend.engineer_id = run_rate_windows.engineer_id
        and daily_spend.usage_date between run_rate_windows.window_start and run_rate_windows.window_end
    group by all
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
        bands.band_company,
        bands.band_title,
        bands.band_level,
        bands.band_location,
        bands.band_n,
        bands.band_vendor,
        bands.band_fallback,
        bands.band_reason,
        bands.base_p50 as band_base_p50,
        bands.stock_p50 as band_stock_p50,
        bands.bonus_p50 as band_bonus_p50,
        bands.total_p50 as band_total_p50,
        bands.band_as_of,
        run_rate_spend.run_rate_spend_usd,
        run_rate_days.run_rate_days,
        run_rate_days.run_rate_days < $short_window_days as short_window
    from current_rows
    left join monthly_spend
        on monthly_spend.engineer_id = current_rows.engineer_id
        and monthly_spend.month = current_rows.month
    left join bands
        on bands.engineer_id = current_rows.engineer_id
        and bands.month = current_rows.month
    left join run_rate_spend
        on run_rate_spend.engineer_id = current_rows.engineer_id
        and run_rate_spend.month = current_rows.month
    left join run_rate_days
        on run_rate_days.engineer_id = current_rows.engineer_id
        and run_rate_days.month = current_rows.month
    where current_rows.rn = 1
),

annualized as (
    select
        *,
        money_div_down(run_rate_spend_usd * 365, run_rate_days) as annualized_run_rate_usd
    from joined
),

final as (
    select
        *,
        -- shares are exact at 12 decimals (truncated); reports and the CLI round once, at display
        share_div(annualized_run_rate_usd, band_base_p50) as spend_share_of_base,
        band_total_p50 + annualized_run_rate_usd as total_comp_with_tokens_usd,
        share_div(annualized_run_rate_usd, band_total_p50 + annualized_run_rate_usd) as compute_share
    from annualized
)

select * from final
order by month, engineer_id;

comment on table mart.engineer_monthly is 'One row per roster engineer per month of data, non-spenders included: token spend, tokens by kind, the market pay band, the annualized run rate and how it compares with the band.';
comment on column mart.engineer_monthly.month is 'First day of the month (reporting time zone).';
comment on column mart.engineer_monthly.engineer_id is 'Engineer.';
comment on column mart.engineer_monthly.email is 'Work email.';
comment on column mart.engineer_monthly.name is 'Display name.';
comment on column mart.engineer_monthly.team is 'Team at the end of the engineer''s month.';
comment on column mart.engineer_monthly.cost_centre is 'Cost centre at the end of the engineer''s month.';
comment on column mart.engineer_monthly.level is 'Level at the end of the engineer''s month (after a promotion, the new level).';
comment on column mart.engineer_monthly.title is 'Title at the end of the engineer''s month.';
comment on column mart.engineer_monthly.location is 'Location at the end of the engineer''s month.';
comment on column mart.engineer_monthly.days_active is 'Days of the month the engineer was on the roster and the data covers.';
comment on column mart.engineer_monthly.spend_usd is 'Token spend in the month, USD (0 for non-spenders).';
comment on column mart.engineer_monthly.uncached_input_tokens is 'Metered input tokens neither read from nor written to cache.';
comment on column mart.engineer_monthly.cache_read_tokens is 'Metered input tokens read from cache.';
comment on column mart.engineer_monthly.cache_write_5m_tokens is 'Metered input tokens written to a 5-minute cache.';
comment on column mart.engineer_monthly.cache_write_1h_tokens is 'Metered input tokens written to a 1-hour cache.';
comment on column mart.engineer_monthly.output_tokens is 'Metered output tokens.';
comment on column mart.engineer_monthly.band_company is 'Company of the engineer''s market band (core.engineer_band_monthly); null when no band was found.';
comment on column mart.engineer_monthly.band_title is 'Title of the band.';
comment on column mart.engineer_monthly.band_level is 'Level of the band on the band company''s ladder.';
comment on column mart.engineer_monthly.band_location is 'Location of the band; the country name for a country band; null for a company-wide band.';
comment on column mart.engineer_monthly.band_n is 'Submissions behind the band; null for a vendor band without a count.';
comment on column mart.engineer_monthly.band_vendor is 'True when the band is vendor-supplied.';
comment on column mart.engineer_monthly.band_fallback is 'Which match found the band (core.engineer_band_monthly): location, country, company or peer; null when none did.';
comment on column mart.engineer_monthly.band_reason is 'Why there is no band; null when there is one.';
comment on column mart.engineer_monthly.band_base_p50 is 'Median market base salary of the band, USD per year: the "base" of every share of base.';
comment on column mart.engineer_monthly.band_stock_p50 is 'Median yearly stock grant of the band, USD.';
comment on column mart.engineer_monthly.band_bonus_p50 is 'Median yearly bonus of the band, USD.';
comment on column mart.engineer_monthly.band_total_p50 is 'Median market total compensation of the band, USD per year.';
comment on column mart.engineer_monthly.band_as_of is 'Date of the newest submission behind the band.';
comment on column mart.engineer_monthly.run_rate_spend_usd is 'Token spend in the trailing 90 days ending at the month''s last day with data, USD.';
comment on column mart.engineer_monthly.run_rate_days is 'Days of those 90 the engineer was on the roster and the data covers: the run rate divides by it.';
comment on column mart.engineer_monthly.short_window is 'True when run_rate_days is below config alerts.short_window_days (default 14): the run rate rests on few days.';
comment on column mart.engineer_monthly.annualized_run_rate_usd is 'Annualized run rate: run_rate_spend_usd / run_rate_days * 365, USD per year (truncated at 12 decimals).';
comment on column mart.engineer_monthly.spend_share_of_base is 'Annualized run rate as a share of the band''s median base salary (1.0 = tokens cost as much as base pay); null without a band.';
comment on column mart.engineer_monthly.total_comp_with_tokens_usd is 'Fully loaded comp: band total p50 plus the annualized run rate, USD per year.';
comment on column mart.engineer_monthly.compute_share is 'Share of fully loaded comp that is compute: annualized run rate / (band total p50 + annualized run rate).';
