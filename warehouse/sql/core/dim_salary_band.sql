create table core.dim_salary_band as

with history as (
    select * from core.dim_salary_band_history
    where valid_until is null
),

ranked as (
    -- a vendor band, bought for the purpose, wins over submissions for the same band
    select
        *,
        row_number() over (
            partition by company_key, title, level, location_scope, location, country order by vendor desc
        ) as pick
    from history
),

final as (
    select * exclude (month, valid_until, pick) from ranked
    where pick = 1
)

select * from final
order by company_key, title, level, location_scope, location, country;

comment on table core.dim_salary_band is 'Current market pay bands, whole USD: one row per (company, title, level, location), plus each country and company-wide rollup, for every company loaded (submissions and vendor tables). Older versions are in core.dim_salary_band_history.';
comment on column core.dim_salary_band.company is 'Company (or the peer group a vendor names), normalized.';
comment on column core.dim_salary_band.company_key is 'Lower-case matching key of the company.';
comment on column core.dim_salary_band.title is 'Job title.';
comment on column core.dim_salary_band.level is 'Level on the company''s ladder (or as written when unmapped).';
comment on column core.dim_salary_band.level_rank is 'Seniority rank shared by equivalent levels across ladders (Google L5 = Meta E5 = Amazon L6 = 5); null when the ladder is not known.';
comment on column core.dim_salary_band.location_scope is 'city: one location; country: every location in the country; all: the company everywhere.';
comment on column core.dim_salary_band.location is 'City, ST in the US; City, Region, Country elsewhere; null for country and all bands.';
comment on column core.dim_salary_band.country is 'Country of the band; null for all bands.';
comment on column core.dim_salary_band.n is 'Submissions behind the band (total); null when a vendor table gives no count.';
comment on column core.dim_salary_band.vendor is 'Whether the band came pre-aggregated from a vendor table (it then wins over submissions for the same band).';
comment on column core.dim_salary_band.base_p25 is '25th percentile of base salary, whole USD per year, linear interpolation (numpy default, Excel PERCENTILE.INC) over only submissions whose parts reconcile with the total (a missing part counts 0 there).';
comment on column core.dim_salary_band.base_p50 is 'Median of base salary, whole USD per year, linear interpolation (numpy default, Excel PERCENTILE.INC) over only submissions whose parts reconcile with the total (a missing part counts 0 there).';
comment on column core.dim_salary_band.base_p75 is '75th percentile of base salary, whole USD per year, linear interpolation (numpy default, Excel PERCENTILE.INC) over only submissions whose parts reconcile with the total (a missing part counts 0 there).';
comment on column core.dim_salary_band.base_p90 is '90th percentile of base salary, whole USD per year, linear interpolation (numpy default, Excel PERCENTILE.INC) over only submissions whose parts reconcile with the total (a missing part counts 0 there).';
comment on column core.dim_salary_band.stock_p25 is '25th percentile of yearly stock grant value, whole USD per year, linear interpolation (numpy default, Excel PERCENTILE.INC) over only submissions whose parts reconcile with the total (a missing part counts 0 there).';
comment on column core.dim_salary_band.stock_p50 is 'Median of yearly stock grant value, whole USD per year, linear interpolation (numpy default, Excel PERCENTILE.INC) over only submissions whose parts reconcile with the total (a missing part counts 0 there).';
comment on column core.dim_salary_band.stock_p75 is '75th percentile of yearly stock grant value, whole USD per year, linear interpolation (numpy default, Excel PERCENTILE.INC) over only submissions whose parts reconcile with the total (a missing part counts 0 there).';
comment on column core.dim_salary_band.stock_p90 is '90th percentile of yearly stock grant value, whole USD per year, linear interpolation (numpy default, Excel PERCENTILE.INC) over only submissions whose parts reconcile with the total (a missing part counts 0 there).';
comment on column core.dim_salary_band.bonus_p25 is '25th percentile of yearly bonus, whole USD per year, linear interpolation (numpy default, Excel PERCENTILE.INC) over only submissions whose parts reconcile with the total (a missing part counts 0 there).';
comment on column core.dim_salary_band.bonus_p50 is 'Median of yearly bonus, whole USD per year, linear interpolation (numpy default, Excel PERCENTILE.INC) over only submissions whose parts reconcile with the total (a missing part counts 0 there).';
comment on column core.dim_salary_band.bonus_p75 is '75th percentile of yearly bonus, whole USD per year, linear interpolation (numpy default, Excel PERCENTILE.INC) over only submissions whose parts reconcile with the total (a missing part counts 0 there).';
comment on column core.dim_salary_band.bonus_p90 is '90th percentile of yearly bonus, whole USD per year, linear interpolation (numpy default, Excel PERCENTILE.INC) over only submissions whose parts reconcile with the total (a missing part counts 0 there).';
comment on column core.dim_salary_band.total_p25 is '25th percentile of total yearly compensation, whole USD per year, linear interpolation (numpy default, Excel PERCENTILE.INC) over all submissions of the band (the submitted total).';
comment on column core.dim_salary_band.total_p50 is 'Median of total yearly compensation, whole USD per year, linear interpolation (numpy default, Excel PERCENTILE.INC) over all submissions of the band (the submitted total).';
comment on column core.dim_salary_band.total_p75 is '75th percentile of total yearly compensation, whole USD per year, linear interpolation (numpy default, Excel PERCENTILE.INC) over all submissions of the band (the submitted total).';
comment on column core.dim_salary_band.total_p90 is '90th percentile of total yearly compensation, whole USD per year, linear interpolation (numpy default, Excel PERCENTILE.INC) over all submissions of the band (the submitted total).';
comment on column core.dim_salary_band.as_of is 'Date of the newest submission behind the band (a vendor band: its as_of date).';
comment on column core.dim_salary_band.wage_index_year is 'Year the submissions were lifted to by the wage-growth index; null when it is off (the default) and for vendor bands.';
