create table core.engineer_band_monthly as

-- Placeholder for the band matching of the salary-bands work (h11a replaces this file): the benchmark
-- company's band of exactly the engineer's title, level and location, from the roster row in force on the
-- engineer's last active day of the month; no fallback.
with engineers as (
    select * from core.dim_engineer
),

bands as (
    select * from core.dim_salary_band
    where company = $benchmark_company
),

data_window as (
    select min(usage_date) as first_day, max(usage_date) as last_day from src_usage
),

months as (
    select unnest(generate_series(
        date_trunc('month', first_day), date_trunc('month', last_day), interval 1 month
    ))::date as month
    from data_window
    where first_day is not null
),

engineer_months as (
    select
        months.month,
        engineers.*,
        row_number() over (partition by engineers.engineer_id, months.month order by engineers.valid_from desc) as rn
    from months
    cross join data_window
    inner join engineers
        on engineers.valid_from <= least((months.month + interval 1 month)::date - 1, data_window.last_day)
        and (engineers.valid_to is null or engineers.valid_to > greatest(months.month, data_window.first_day))
),

final as (
    select
        engineer_months.month,
        engineer_months.engineer_id,
        bands.company as band_company,
        bands.title as band_title,
        bands.level as band_level,
        bands.location as band_location,
        bands.submissions::bigint as band_n,
        if(bands.company is null, null, false) as band_vendor,
        if(bands.company is null, null, 'exact') as band_fallback,
        if(bands.company is null, 'no band for title, level and location', null) as band_reason,
        bands.base_p25::decimal(38, 12) as base_p25,
        bands.base_p50::decimal(38, 12) as base_p50,
        bands.base_p75::decimal(38, 12) as base_p75,
        null::decimal(38, 12) as base_p90,
        null::decimal(38, 12) as stock_p25,
        bands.stock_p50::decimal(38, 12) as stock_p50,
        null::decimal(38, 12) as stock_p75,
        null::decimal(38, 12) as stock_p90,
        null::decimal(38, 12) as bonus_p25,
        bands.bonus_p50::decimal(38, 12) as bonus_p50,
        null::decimal(38, 12) as bonus_p75,
        null::decimal(38, 12) as bonus_p90,
        bands.total_p25::decimal(38, 12) as total_p25,
        bands.total_p50::decimal(38, 12) as total_p50,
        bands.total_p75::decimal(38, 12) as total_p75,
        null::decimal(38, 12) as total_p90,
        bands.as_of::date as band_as_of
    from engineer_months
    left join bands
        on bands.title = engineer_months.title
        and bands.level = engineer_months.level
        and bands.location = engineer_months.location
    where engineer_months.rn = 1
)

select * from final
order by month, engineer_id;

comment on table core.engineer_band_monthly is 'The market pay band of each roster engineer in each month of data: which band was used, how it was found, and its percentiles.';
comment on column core.engineer_band_monthly.month is 'First day of the month (reporting time zone).';
comment on column core.engineer_band_monthly.engineer_id is 'Engineer.';
comment on column core.engineer_band_monthly.band_company is 'Company whose submissions make the band; null when no band was found.';
comment on column core.engineer_band_monthly.band_title is 'Title of the band.';
comment on column core.engineer_band_monthly.band_level is 'Level of the band, on the band company''s ladder.';
comment on column core.engineer_band_monthly.band_location is 'Location of the band (null when the band spans locations).';
comment on column core.engineer_band_monthly.band_n is 'Submissions behind the band; null for a vendor band without a count.';
comment on column core.engineer_band_monthly.band_vendor is 'True when the band is a vendor-supplied pre-aggregated band.';
comment on column core.engineer_band_monthly.band_fallback is 'How the band was found: exact (company, level, location) or the fallback used.';
comment on column core.engineer_band_monthly.band_reason is 'Why the engineer has no band; null when a band was found.';
comment on column core.engineer_band_monthly.base_p25 is '25th percentile of base salary, USD per year.';
comment on column core.engineer_band_monthly.base_p50 is 'Median base salary, USD per year.';
comment on column core.engineer_band_monthly.base_p75 is '75th percentile of base salary, USD per year.';
comment on column core.engineer_band_monthly.base_p90 is '90th percentile of base salary, USD per year.';
comment on column core.engineer_band_monthly.stock_p25 is '25th percentile of yearly stock grant value, USD.';
comment on column core.engineer_band_monthly.stock_p50 is 'Median yearly stock grant value, USD.';
comment on column core.engineer_band_monthly.stock_p75 is '75th percentile of yearly stock grant value, USD.';
comment on column core.engineer_band_monthly.stock_p90 is '90th percentile of yearly stock grant value, USD.';
comment on column core.engineer_band_monthly.bonus_p25 is '25th percentile of yearly bonus, USD.';
comment on column core.engineer_band_monthly.bonus_p50 is 'Median yearly bonus, USD.';
comment on column core.engineer_band_monthly.bonus_p75 is '75th percentile of yearly bonus, USD.';
comment on column core.engineer_band_monthly.bonus_p90 is '90th percentile of yearly bonus, USD.';
comment on column core.engineer_band_monthly.total_p25 is '25th percentile of total yearly compensation, USD.';
comment on column core.engineer_band_monthly.total_p50 is 'Median total yearly compensation, USD.';
comment on column core.engineer_band_monthly.total_p75 is '75th percentile of total yearly compensation, USD.';
comment on column core.engineer_band_monthly.total_p90 is '90th percentile of total yearly compensation, USD.';
comment on column core.engineer_band_monthly.band_as_of is 'Date of the newest submission behind the band.';
