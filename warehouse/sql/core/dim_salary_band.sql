create table core.dim_salary_band as

with submissions as (
    select * from src_salaries
),

bands as (
    select
        company,
        title,
        level,
        location,
        count(*) as submissions,
        round(quantile_cont(base, 0.25))::bigint as base_p25,
        round(quantile_cont(base, 0.50))::bigint as base_p50,
        round(quantile_cont(base, 0.75))::bigint as base_p75,
        round(quantile_cont(stock, 0.50))::bigint as stock_p50,
        round(quantile_cont(bonus, 0.50))::bigint as bonus_p50,
        round(quantile_cont(total, 0.25))::bigint as total_p25,
        round(quantile_cont(total, 0.50))::bigint as total_p50,
        round(quantile_cont(total, 0.75))::bigint as total_p75,
        max(timestamp) as as_of
    from submissions
    group by company, title, level, location
),

final as (
    select * from bands
)

select * from final
order by company, title, level, location;

comment on table core.dim_salary_band is 'Market pay bands from Levels.fyi-style submissions: one current row per (company, title, level, location), whole USD. First version: plain percentiles of all submissions (robust bands come with the salary-bands issue).';
comment on column core.dim_salary_band.company is 'Company the submissions are for.';
comment on column core.dim_salary_band.title is 'Job title as submitted.';
comment on column core.dim_salary_band.level is 'Company level as submitted (e.g. L5).';
comment on column core.dim_salary_band.location is 'City, ST in the US; City, Region, Country elsewhere.';
comment on column core.dim_salary_band.submissions is 'Number of submissions behind the band.';
comment on column core.dim_salary_band.base_p25 is '25th percentile of base salary, whole USD per year.';
comment on column core.dim_salary_band.base_p50 is 'Median base salary, whole USD per year.';
comment on column core.dim_salary_band.base_p75 is '75th percentile of base salary, whole USD per year.';
comment on column core.dim_salary_band.stock_p50 is 'Median yearly stock grant value, whole USD.';
comment on column core.dim_salary_band.bonus_p50 is 'Median yearly bonus, whole USD.';
comment on column core.dim_salary_band.total_p25 is '25th percentile of total yearly compensation, whole USD.';
comment on column core.dim_salary_band.total_p50 is 'Median total yearly compensation (base + stock + bonus), whole USD.';
comment on column core.dim_salary_band.total_p75 is '75th percentile of total yearly compensation, whole USD.';
comment on column core.dim_salary_band.as_of is 'Date of the newest submission behind the band.';
