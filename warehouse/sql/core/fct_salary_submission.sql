create table core.fct_salary_submission as

with submissions as (
    select * from src_salaries
),

wage_index as (
    select unnest($wage_index::struct(year integer, index decimal(18, 6))[], recursive := true)
),

index_span as (
    select min(year) as first_year, max(year) as last_year, arg_max(index, year) as last_index from wage_index
),

lifted as (
    select
        submissions.*,
        date_trunc('month', submissions.submitted_at)::date as month,
        index_span.last_year as wage_index_year,
        coalesce(share_div(index_span.last_index, wage_index.index), 1)::decimal(38, 12) as wage_factor
    from submissions
    cross join index_span
    left join wage_index
        on wage_index.year
        = least(greatest(year(submissions.submitted_at), index_span.first_year), index_span.last_year)
),

final as (
    select
        file,
        line,
        submitted_at,
        month,
        company,
        company_key,
        company_raw,
        title,
        level,
        level_raw,
        level_mapped,
        location,
        location_raw,
        country,
        years_of_experience,
        years_at_company,
        base,
        stock,
        bonus,
        total,
        component_in_thousands,
        reconciles,
        file_in_thousands,
        wage_index_year,
        wage_factor
    from lifted
)

select * from final
order by company_key, title, level, location, submitted_at, file, line;

comment on table core.fct_salary_submission is 'Every loaded Levels.fyi-style salary submission, normalized (company, level, location, whole USD): the rows the bands are computed from, so any band or market figure can be checked by hand.';
comment on column core.fct_salary_submission.file is 'Salary file the row came from.';
comment on column core.fct_salary_submission.line is 'Line of the row in its file (CSV, header = line 1), or record number (JSON, first = 1).';
comment on column core.fct_salary_submission.submitted_at is 'When the submission was made (as written, no time zone).';
comment on column core.fct_salary_submission.month is 'First day of the submission''s month: bands of that month and later include it.';
comment on column core.fct_salary_submission.company is 'Company, normalized: case, spacing, legal suffix, alias and former name resolved (AWS is Amazon, Facebook is Meta).';
comment on column core.fct_salary_submission.company_key is 'Lower-case matching key of the company (config names are matched through it).';
comment on column core.fct_salary_submission.company_raw is 'Company as submitted.';
comment on column core.fct_salary_submission.title is 'Job title as submitted (spacing cleaned).';
comment on column core.fct_salary_submission.level is 'Level on the company''s ladder (SDE II is L5 at Amazon, IC5 is E5 at Meta); the cleaned text when no ladder rule maps it.';
comment on column core.fct_salary_submission.level_raw is 'Level as submitted.';
comment on column core.fct_salary_submission.level_mapped is 'Whether a ladder rule mapped the level (false: kept as written, unmapped).';
comment on column core.fct_salary_submission.location is 'City, ST in the US; City, Region, Country elsewhere (City, Country when the region is unknown); null when only a country is given.';
comment on column core.fct_salary_submission.location_raw is 'Location as submitted.';
comment on column core.fct_salary_submission.country is 'Country of the location (null when a one-part location names no known place).';
comment on column core.fct_salary_submission.years_of_experience is 'Years of experience as submitted.';
comment on column core.fct_salary_submission.years_at_company is 'Years at the company as submitted.';
comment on column core.fct_salary_submission.base is 'Base salary, whole USD per year; null when not given (0, NA, empty).';
comment on column core.fct_salary_submission.stock is 'Yearly stock grant value, whole USD; null when not given.';
comment on column core.fct_salary_submission.bonus is 'Yearly bonus, whole USD; null when not given.';
comment on column core.fct_salary_submission.total is 'Total yearly compensation as submitted (the validated figure), whole USD.';
comment on column core.fct_salary_submission.component_in_thousands is 'The one component (base, stock or bonus) written in thousands inside a dollar row and multiplied by 1,000; null when none.';
comment on column core.fct_salary_submission.reconciles is 'Whether base + stock + bonus (missing parts as 0) is within the larger of $1,000 and 2% of the total; only such rows feed component bands.';
comment on column core.fct_salary_submission.file_in_thousands is 'Whether the row''s file was in thousands of USD (its median total under 1,000) and was multiplied by 1,000.';
comment on column core.fct_salary_submission.wage_index_year is 'Year the wage-growth index lifts the row to; null when the index is off (the default).';
comment on column core.fct_salary_submission.wage_factor is 'Wage-growth factor used in bands: index of wage_index_year over index of the submission year (1 when off).';
