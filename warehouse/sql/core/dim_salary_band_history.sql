-- Market pay bands from salary submissions and vendor band tables (docs/salaries.md "Bands"), as they stood
-- after every month with a new submission; core.dim_salary_band keeps the current ones.

-- The p-th percentile of a sorted list by linear interpolation between closest ranks (numpy's default, Excel
-- PERCENTILE.INC), in exact decimal arithmetic, rounded half up to whole USD; null for an empty list.
create or replace temp macro band_pct(sorted_values, p) as
    if(len(sorted_values) = 0, null, round(
        sorted_values[floor((len(sorted_values) - 1) * p)::bigint + 1]
        + ((len(sorted_values) - 1) * p - floor((len(sorted_values) - 1) * p))
        * (
            sorted_values[least(floor((len(sorted_values) - 1) * p)::bigint + 2, len(sorted_values))]
            - sorted_values[floor((len(sorted_values) - 1) * p)::bigint + 1]
        )
    )::decimal(38, 12));

create table core.dim_salary_band_history as

with submissions as (
    select * from core.fct_salary_submission
),

ranks as (
    select unnest($band_level_ranks::struct(company_key varchar, level varchar, rank bigint)[], recursive := true)
),

scoped as (
    -- every submission counts at its location, in its country and for the company as a whole
    select *, 'city' as location_scope, location as scope_location, country as scope_country
    from submissions where location is not null
    union all
    select *, 'country' as location_scope, null as scope_location, country as scope_country
    from submissions where country is not null
    union all
    select *, 'all' as location_scope, null as scope_location, null as scope_country
    from submissions
),

band_months as (
    select distinct company_key, title, level, location_scope, scope_location, scope_country, month
    from scoped
),

as_they_were as (
    select
        band_months.month,
        band_months.company_key,
        any_value(scoped.company) as company,
        band_months.title,
        band_months.level,
        band_months.location_scope,
        band_months.scope_location as location,
        band_months.scope_country as country,
        count(*) as n,
        false as vendor,
        list_sort(list(scoped.total * scoped.wage_factor)) as total_values,
        list_sort(list(scoped.base * scoped.wage_factor) filter (where scoped.reconciles)) as base_values,
        list_sort(list(coalesce(scoped.stock, 0) * scoped.wage_factor) filter (where scoped.reconciles))
            as stock_values,
        list_sort(list(coalesce(scoped.bonus, 0) * scoped.wage_factor) filter (where scoped.reconciles))
            as bonus_values,
        max(scoped.submitted_at)::date as as_of,
        max(scoped.wage_index_year) as wage_index_year
    from band_months
    inner join scoped
        on scoped.company_key = band_months.company_key
        and scoped.title = band_months.title
        and scoped.level = band_months.level
        and scoped.location_scope = band_months.location_scope
        and scoped.scope_location is not distinct from band_months.scope_location
        and scoped.scope_country is not distinct from band_months.scope_country
        and scoped.month <= band_months.month
    group by
        band_months.month,
        band_months.company_key,
        band_months.title,
        band_months.level,
        band_months.location_scope,
        band_months.scope_location,
        band_months.scope_country
),

from_submissions as (
    select
        month,
        company_key,
        company,
        title,
        level,
        location_scope,
        location,
        country,
        n,
        vendor,
        band_pct(base_values, 0.25) as base_p25,
        band_pct(base_values, 0.50) as base_p50,
        band_pct(base_values, 0.75) as base_p75,
        band_pct(base_values, 0.90) as base_p90,
        band_pct(stock_values, 0.25) as stock_p25,
        band_pct(stock_values, 0.50) as stock_p50,
        band_pct(stock_values, 0.75) as stock_p75,
        band_pct(stock_values, 0.90) as stock_p90,
        band_pct(bonus_values, 0.25) as bonus_p25,
        band_pct(bonus_values, 0.50) as bonus_p50,
        band_pct(bonus_values, 0.75) as bonus_p75,
        band_pct(bonus_values, 0.90) as bonus_p90,
        band_pct(total_values, 0.25) as total_p25,
        band_pct(total_values, 0.50) as total_p50,
        band_pct(total_values, 0.75) as total_p75,
        band_pct(total_values, 0.90) as total_p90,
        as_of,
        wage_index_year
    from as_they_were
),

from_vendors as (
    select
        date_trunc('month', as_of)::date as month,
        company_key,
        company,
        title,
        level,
        location_scope,
        location,
        country,
        n,
        true as vendor,
        base_p25::decimal(38, 12) as base_p25,
        base_p50::decimal(38, 12) as base_p50,
        base_p75::decimal(38, 12) as base_p75,
        base_p90::decimal(38, 12) as base_p90,
        stock_p25::decimal(38, 12) as stock_p25,
        stock_p50::decimal(38, 12) as stock_p50,
        stock_p75::decimal(38, 12) as stock_p75,
        stock_p90::decimal(38, 12) as stock_p90,
        bonus_p25::decimal(38, 12) as bonus_p25,
        bonus_p50::decimal(38, 12) as bonus_p50,
        bonus_p75::decimal(38, 12) as bonus_p75,
        bonus_p90::decimal(38, 12) as bonus_p90,
        total_p25::decimal(38, 12) as total_p25,
        total_p50::decimal(38, 12) as total_p50,
        total_p75::decimal(38, 12) as total_p75,
        total_p90::decimal(38, 12) as total_p90,
        as_of,
        null::integer as wage_index_year
    from src_salary_vendor_bands
),

bands as (
    select * from from_submissions
    union all by name
    select * from from_vendors
),

final as (
    select
        bands.month,
        lead(bands.month) over (
            partition by
                bands.company_key, bands.title, bands.level, bands.location_scope, bands.location, bands.country,
                bands.vendor
            order by bands.month nulls first
        ) as valid_until,
        bands.company,
        bands.company_key,
        bands.title,
        bands.level,
        ranks.rank as level_rank,
        bands.location_scope,
        bands.location,
        bands.country,
        bands.n,
        bands.vendor,
        bands.base_p25,
        bands.base_p50,
        bands.base_p75,
        bands.base_p90,
        bands.stock_p25,
        bands.stock_p50,
        bands.stock_p75,
        bands.stock_p90,
        bands.bonus_p25,
        bands.bonus_p50,
        bands.bonus_p75,
        bands.bonus_p90,
        bands.total_p25,
        bands.total_p50,
        bands.total_p75,
        bands.total_p90,
        bands.as_of,
        bands.wage_index_year
    from bands
    left join ranks on ranks.company_key = bands.company_key and ranks.level = bands.level
)

select * from final
order by company_key, title, level, location_scope, location, country, vendor, month nulls first;

comment on table core.dim_salary_band_history is 'Market pay bands as they stood each month: one row per band and month in which it changed (a new submission, a vendor table), valid until the next row; a month''s band uses only submissions dated up to that month''s end. Bands exist at a location, for a country and for the whole company, for every company loaded.';
comment on column core.dim_salary_band_history.month is 'First month the band stood like this (null: an undated vendor table, in force from the start).';
comment on column core.dim_salary_band_history.valid_until is 'First month of the band''s next version (exclusive); null while current.';
comment on column core.dim_salary_band_history.company is 'Company (or the peer group a vendor names), normalized.';
comment on column core.dim_salary_band_history.company_key is 'Lower-case matching key of the company.';
comment on column core.dim_salary_band_history.title is 'Job title.';
comment on column core.dim_salary_band_history.level is 'Level on the company''s ladder (or as written when unmapped).';
comment on column core.dim_salary_band_history.level_rank is 'Seniority rank shared by equivalent levels across ladders (Google L5 = Meta E5 = Amazon L6 = 5); null when the ladder is not known.';
comment on column core.dim_salary_band_history.location_scope is 'city: one location; country: every location in the country; all: the company everywhere.';
comment on column core.dim_salary_band_history.location is 'City, ST in the US; City, Region, Country elsewhere; null for country and all bands.';
comment on column core.dim_salary_band_history.country is 'Country of the band; null for all bands.';
comment on column core.dim_salary_band_history.n is 'Submissions behind the band (total); null when a vendor table gives no count.';
comment on column core.dim_salary_band_history.vendor is 'Whether the band came pre-aggregated from a vendor table (a vendor band with no n meets any minimum).';
comment on column core.dim_salary_band_history.base_p25 is '25th percentile of base salary, whole USD per year, linear interpolation (numpy default, Excel PERCENTILE.INC) over only submissions whose parts reconcile with the total (a missing part counts 0 there).';
comment on column core.dim_salary_band_history.base_p50 is 'Median of base salary, whole USD per year, linear interpolation (numpy default, Excel PERCENTILE.INC) over only submissions whose parts reconcile with the total (a missing part counts 0 there).';
comment on column core.dim_salary_band_history.base_p75 is '75th percentile of base salary, whole USD per year, linear interpolation (numpy default, Excel PERCENTILE.INC) over only submissions whose parts reconcile with the total (a missing part counts 0 there).';
comment on column core.dim_salary_band_history.base_p90 is '90th percentile of base salary, whole USD per year, linear interpolation (numpy default, Excel PERCENTILE.INC) over only submissions whose parts reconcile with the total (a missing part counts 0 there).';
comment on column core.dim_salary_band_history.stock_p25 is '25th percentile of yearly stock grant value, whole USD per year, linear interpolation (numpy default, Excel PERCENTILE.INC) over only submissions whose parts reconcile with the total (a missing part counts 0 there).';
comment on column core.dim_salary_band_history.stock_p50 is 'Median of yearly stock grant value, whole USD per year, linear interpolation (numpy default, Excel PERCENTILE.INC) over only submissions whose parts reconcile with the total (a missing part counts 0 there).';
comment on column core.dim_salary_band_history.stock_p75 is '75th percentile of yearly stock grant value, whole USD per year, linear interpolation (numpy default, Excel PERCENTILE.INC) over only submissions whose parts reconcile with the total (a missing part counts 0 there).';
comment on column core.dim_salary_band_history.stock_p90 is '90th percentile of yearly stock grant value, whole USD per year, linear interpolation (numpy default, Excel PERCENTILE.INC) over only submissions whose parts reconcile with the total (a missing part counts 0 there).';
comment on column core.dim_salary_band_history.bonus_p25 is '25th percentile of yearly bonus, whole USD per year, linear interpolation (numpy default, Excel PERCENTILE.INC) over only submissions whose parts reconcile with the total (a missing part counts 0 there).';
comment on column core.dim_salary_band_history.bonus_p50 is 'Median of yearly bonus, whole USD per year, linear interpolation (numpy default, Excel PERCENTILE.INC) over only submissions whose parts reconcile with the total (a missing part counts 0 there).';
comment on column core.dim_salary_band_history.bonus_p75 is '75th percentile of yearly bonus, whole USD per year, linear interpolation (numpy default, Excel PERCENTILE.INC) over only submissions whose parts reconcile with the total (a missing part counts 0 there).';
comment on column core.dim_salary_band_history.bonus_p90 is '90th percentile of yearly bonus, whole USD per year, linear interpolation (numpy default, Excel PERCENTILE.INC) over only submissions whose parts reconcile with the total (a missing part counts 0 there).';
comment on column core.dim_salary_band_history.total_p25 is '25th percentile of total yearly compensation, whole USD per year, linear interpolation (numpy default, Excel PERCENTILE.INC) over all submissions of the band (the submitted total).';
comment on column core.dim_salary_band_history.total_p50 is 'Median of total yearly compensation, whole USD per year, linear interpolation (numpy default, Excel PERCENTILE.INC) over all submissions of the band (the submitted total).';
comment on column core.dim_salary_band_history.total_p75 is '75th percentile of total yearly compensation, whole USD per year, linear interpolation (numpy default, Excel PERCENTILE.INC) over all submissions of the band (the submitted total).';
comment on column core.dim_salary_band_history.total_p90 is '90th percentile of total yearly compensation, whole USD per year, linear interpolation (numpy default, Excel PERCENTILE.INC) over all submissions of the band (the submitted total).';
comment on column core.dim_salary_band_history.as_of is 'Date of the newest submission behind the band (a vendor band: its as_of date).';
comment on column core.dim_salary_band_history.wage_index_year is 'Year the submissions were lifted to by the wage-growth index; null when it is off (the default) and for vendor bands.';
