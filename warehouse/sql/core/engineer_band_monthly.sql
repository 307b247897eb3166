-- grain: month month; edges core.fct_usage_daily(usage_date)
-- Each roster engineer-month and the market pay band it is measured against (docs/salaries.md "Matching").
-- Months and active days follow mart.engineer_monthly: every month of usage data, each roster row in force.

create table core.engineer_band_monthly as

with engineers as (
    select * from core.dim_engineer
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

level_map as (
    select pair[1] as from_level, pair[2] as to_level from (select unnest($band_level_map::varchar[][]) as pair)
),

location_map as (
    select pair[1] as from_location, pair[2] as to_location
    from (select unnest($band_location_map::varchar[][]) as pair)
),

title_map as (
    select pair[1] as from_title, pair[2] as to_title from (select unnest($band_title_map::varchar[][]) as pair)
),

peers as (
    select unnest($band_peers::struct(company_key varchar, priority integer)[], recursive := true)
),

segments as (
    -- one row per roster row in force during the month: a promotion within a month is two segments
    select
        months.month,
        engineers.engineer_id,
        engineers.valid_from,
        coalesce(title_map.to_title, nullif(trim(engineers.title), ''), 'Software Engineer') as title,
        coalesce(level_map.to_level, engineers.level) as level,
        coalesce(location_map.to_location, engineers.location) as location,
        least(
            (months.month + interval 1 month)::date - 1,
            data_window.last_day,
            coalesce(engineers.valid_to - 1, data_window.last_day)
        ) - greatest(months.month, data_window.first_day, engineers.valid_from) + 1 as days
    from months
    cross join data_window
    inner join engineers
        on engineers.valid_from <= least((months.month + interval 1 month)::date - 1, data_window.last_day)
        and (engineers.valid_to is null or engineers.valid_to > greatest(months.month, data_window.first_day))
    left join level_map on level_map.from_level = engineers.level
    left join location_map on location_map.from_location = engineers.location
    left join title_map on title_map.from_title = engineers.title
),

placed as (
    -- the country of a band location: `City, ST` is the US, otherwise the last part
    select
        *,
        case
            when regexp_matches(location, '^[^,]+, [A-Z]{2}$') then 'United States'
            else trim(regexp_extract(location, '[^,]+$'))
        end as country
    from segments
),

benchmark_rank as (
    select level, level_rank as rank from core.dim_salary_band_history
    where company_key = $benchmark_company_key and level_rank is not null
    group by all
),

in_force as (
    -- bands as they stood in the month (only submissions dated up to its end), meeting the minimum n
    select history.*, months.month as in_month
    from core.dim_salary_band_history as history
    inner join months
        on coalesce(history.month, months.month) <= months.month
        and (history.valid_until is null or history.valid_until > months.month)
    where (history.company_key = $benchmark_company_key or history.company_key in (select company_key from peers))
        and (history.n >= $band_min_n or (history.vendor and history.n is null))
),

candidates as (
    select
        placed.month,
        placed.engineer_id,
        placed.valid_from,
        band.*,
        case
            when band.company_key = $benchmark_company_key then 0
            else peers.priority
        end * 10
        + case band.location_scope when 'city' then 1 when 'country' then 2 else 3 end as priority
    from placed
    left join benchmark_rank on benchmark_rank.level = placed.level
    inner join in_force as band
        on band.in_month = placed.month
        and band.title = placed.title
        and (
            band.location_scope = 'all'
            or (band.location_scope = 'country' and band.country = placed.country)
            or (band.location_scope = 'city' and band.location = placed.location)
        )
    left join peers on peers.company_key = band.company_key
    where
        (band.company_key = $benchmark_company_key and band.level = placed.level)
        or (
            peers.company_key is not null
            and (band.level_rank = benchmark_rank.rank or (benchmark_rank.rank is null and band.level = placed.level))
        )
),

chosen as (
    select * from candidates
    qualify row_number() over (
        partition by month, engineer_id, valid_from order by priority, vendor desc, level
    ) = 1
),

segment_bands as (
    select
        placed.*,
        chosen.company as band_company,
        chosen.title as band_title,
        chosen.level as band_level,
        coalesce(chosen.location, chosen.country) as band_location,
        chosen.n as band_n,
        chosen.vendor as band_vendor,
        case
            when chosen.priority is null then null
            when chosen.priority >= 10 then 'peer'
            when chosen.priority = 1 then 'location'
            when chosen.priority = 2 then 'country'
            else 'company'
        end as band_fallback,
        chosen.base_p25,
        chosen.base_p50,
        chosen.base_p75,
        chosen.base_p90,
        chosen.stock_p25,
        chosen.stock_p50,
        chosen.stock_p75,
        chosen.stock_p90,
        chosen.bonus_p25,
        chosen.bonus_p50,
        chosen.bonus_p75,
        chosen.bonus_p90,
        chosen.total_p25,
        chosen.total_p50,
        chosen.total_p75,
        chosen.total_p90,
        chosen.as_of as band_as_of,
        row_number() over (
            partition by placed.month, placed.engineer_id
            order by (chosen.priority is not null) desc, placed.valid_from desc
        ) as shown
    from placed
    left join chosen
        on chosen.month = placed.month
        and chosen.engineer_id = placed.engineer_id
        and chosen.valid_from = placed.valid_from
),

weighted as (
    -- across a promotion, each band value weighted by the days spent at each level (segments with a band)
    select
        month,
        engineer_id,
        share_div(sum(base_p25 * days), sum(days) filter (where base_p25 is not null)) as base_p25,
        share_div(sum(base_p50 * days), sum(days) filter (where base_p50 is not null)) as base_p50,
        share_div(sum(base_p75 * days), sum(days) filter (where base_p75 is not null)) as base_p75,
        share_div(sum(base_p90 * days), sum(days) filter (where base_p90 is not null)) as base_p90,
        share_div(sum(stock_p25 * days), sum(days) filter (where stock_p25 is not null)) as stock_p25,
        share_div(sum(stock_p50 * days), sum(days) filter (where stock_p50 is not null)) as stock_p50,
        share_div(sum(stock_p75 * days), sum(days) filter (where stock_p75 is not null)) as stock_p75,
        share_div(sum(stock_p90 * days), sum(days) filter (where stock_p90 is not null)) as stock_p90,
        share_div(sum(bonus_p25 * days), sum(days) filter (where bonus_p25 is not null)) as bonus_p25,
        share_div(sum(bonus_p50 * days), sum(days) filter (where bonus_p50 is not null)) as bonus_p50,
        share_div(sum(bonus_p75 * days), sum(days) filter (where bonus_p75 is not null)) as bonus_p75,
        share_div(sum(bonus_p90 * days), sum(days) filter (where bonus_p90 is not null)) as bonus_p90,
        share_div(sum(total_p25 * days), sum(days) filter (where total_p25 is not null)) as total_p25,
        share_div(sum(total_p50 * days), sum(days) filter (where total_p50 is not null)) as total_p50,
        share_div(sum(total_p75 * days), sum(days) filter (where total_p75 is not null)) as total_p75,
        share_div(sum(total_p90 * days), sum(days) filter (where total_p90 is not null)) as total_p90
    from segment_bands
    where band_fallback is not null
    group by month, engineer_id
),

benchmark_seen as (
    select months.month, count(history.month) > 0 as has_any
    from months
    left join core.dim_salary_band_history as history
        on history.company_key = $benchmark_company_key and coalesce(history.month, months.month) <= months.month
    group by months.month
),

final as (
    select
        shown.month,
        shown.engineer_id,
        shown.band_company,
        shown.band_title,
        shown.band_level,
        shown.band_location,
        shown.band_n,
        shown.band_vendor,
        shown.band_fallback,
        case
            when shown.band_fallback is not null then null
            when $benchmark_company_key = '' then 'no benchmark company configured (bands.benchmark_company)'
            when not benchmark_seen.has_any
                then 'no submissions of the benchmark company dated up to the end of the month'
            else format(
                'no band with n >= {} for {} {} at {}: not at the benchmark company (location, country or '
                || 'company-wide), nor at an equivalent level at a peer company',
                $band_min_n, shown.title, shown.level, coalesce(shown.location, 'no location')
            )
        end as band_reason,
        weighted.base_p25,
        weighted.base_p50,
        weighted.base_p75,
        weighted.base_p90,
        weighted.stock_p25,
        weighted.stock_p50,
        weighted.stock_p75,
        weighted.stock_p90,
        weighted.bonus_p25,
        weighted.bonus_p50,
        weighted.bonus_p75,
        weighted.bonus_p90,
        weighted.total_p25,
        weighted.total_p50,
        weighted.total_p75,
        weighted.total_p90,
        shown.band_as_of
    from segment_bands as shown
    left join weighted on weighted.month = shown.month and weighted.engineer_id = shown.engineer_id
    left join benchmark_seen on benchmark_seen.month = shown.month
    where shown.shown = 1
)

select * from final
order by month, engineer_id;

comment on table core.engineer_band_monthly is 'One row per roster engineer and month of data: the market pay band the engineer is measured against, which fallback found it, or why there is none.';
comment on column core.engineer_band_monthly.month is 'First day of the month (reporting time zone).';
comment on column core.engineer_band_monthly.engineer_id is 'Engineer.';
comment on column core.engineer_band_monthly.band_company is 'Company of the band: the benchmark company (bands.benchmark_company) or, as a last fallback, a peer; null when no band.';
comment on column core.engineer_band_monthly.band_title is 'Title of the band: the roster title through bands.title_map (Software Engineer when the roster has none).';
comment on column core.engineer_band_monthly.band_level is 'Level of the band on its company''s ladder (the roster level through bands.level_map; at a peer, the equivalent level). After a promotion within the month, the level at the month''s end.';
comment on column core.engineer_band_monthly.band_location is 'Location of the band (the office through bands.location_map); the country name for a country band; null for a company-wide band.';
comment on column core.engineer_band_monthly.band_n is 'Submissions behind the band; null when a vendor table gives no count.';
comment on column core.engineer_band_monthly.band_vendor is 'Whether the band came from a vendor band table.';
comment on column core.engineer_band_monthly.band_fallback is 'Which match found the band: location (company, level, location), country (company, level, country), company (company, level), peer (the equivalent level at a peer company); null when none did.';
comment on column core.engineer_band_monthly.band_reason is 'Why the engineer has no band (null when a band was found).';
comment on column core.engineer_band_monthly.base_p25 is '25th percentile of base salary in the band, USD per year: whole USD, or weighted by the days at each level when the engineer was promoted within the month.';
comment on column core.engineer_band_monthly.base_p50 is 'Median of base salary in the band, USD per year: whole USD, or weighted by the days at each level when the engineer was promoted within the month.';
comment on column core.engineer_band_monthly.base_p75 is '75th percentile of base salary in the band, USD per year: whole USD, or weighted by the days at each level when the engineer was promoted within the month.';
comment on column core.engineer_band_monthly.base_p90 is '90th percentile of base salary in the band, USD per year: whole USD, or weighted by the days at each level when the engineer was promoted within the month.';
comment on column core.engineer_band_monthly.stock_p25 is '25th percentile of yearly stock grant value in the band, USD per year: whole USD, or weighted by the days at each level when the engineer was promoted within the month.';
comment on column core.engineer_band_monthly.stock_p50 is 'Median of yearly stock grant value in the band, USD per year: whole USD, or weighted by the days at each level when the engineer was promoted within the month.';
comment on column core.engineer_band_monthly.stock_p75 is '75th percentile of yearly stock grant value in the band, USD per year: whole USD, or weighted by the days at each level when the engineer was promoted within the month.';
comment on column core.engineer_band_monthly.stock_p90 is '90th percentile of yearly stock grant value in the band, USD per year: whole USD, or weighted by the days at each level when the engineer was promoted within the month.';
comment on column core.engineer_band_monthly.bonus_p25 is '25th percentile of yearly bonus in the band, USD per year: whole USD, or weighted by the days at each level when the engineer was promoted within the month.';
comment on column core.engineer_band_monthly.bonus_p50 is 'Median of yearly bonus in the band, USD per year: whole USD, or weighted by the days at each level when the engineer was promoted within the month.';
comment on column core.engineer_band_monthly.bonus_p75 is '75th percentile of yearly bonus in the band, USD per year: whole USD, or weighted by the days at each level when the engineer was promoted within the month.';
comment on column core.engineer_band_monthly.bonus_p90 is '90th percentile of yearly bonus in the band, USD per year: whole USD, or weighted by the days at each level when the engineer was promoted within the month.';
comment on column core.engineer_band_monthly.total_p25 is '25th percentile of total yearly compensation in the band, USD per year: whole USD, or weighted by the days at each level when the engineer was promoted within the month.';
comment on column core.engineer_band_monthly.total_p50 is 'Median of total yearly compensation in the band, USD per year: whole USD, or weighted by the days at each level when the engineer was promoted within the month.';
comment on column core.engineer_band_monthly.total_p75 is '75th percentile of total yearly compensation in the band, USD per year: whole USD, or weighted by the days at each level when the engineer was promoted within the month.';
comment on column core.engineer_band_monthly.total_p90 is '90th percentile of total yearly compensation in the band, USD per year: whole USD, or weighted by the days at each level when the engineer was promoted within the month.';
comment on column core.engineer_band_monthly.band_as_of is 'Date of the newest submission behind the band (at the month''s end level).';
