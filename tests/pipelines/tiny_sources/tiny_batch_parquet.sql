-- tiny_batch_parquet mapping: one Parquet row (table `rows`, typed columns) to one canonical aggregate.
create or replace temp macro source_records(rows, source, provider, publisher) as table
with validated as (
    select
        *,
        first_problem([
            {'field': 'input_tokens', 'reason': int_reason(value_kind(input_tokens), input_tokens::varchar, false)},
            {'field': 'output_tokens', 'reason': int_reason(value_kind(output_tokens), output_tokens::varchar, false)}
        ]) as problem
    from query_table(rows)
)
select
    delivery,
    line,
    problem.field as reject_field,
    problem.reason as reject_reason,
    case when problem is null then day end as stat_date,
    day as billing_date,
    day::timestamptz as period_start,
    (day + 1)::timestamptz as period_end,
    source as source,
    provider as provider,
    publisher as publisher,
    model as model,
    model as model_raw,
    'batch' as service_tier,
    'workspace' as scope_kind,
    'batch-jobs' as scope_id,
    int_value_of(input_tokens::varchar) as uncached_input_tokens,
    0::bigint as cache_read_tokens,
    0::bigint as cache_write_5m_tokens,
    0::bigint as cache_write_1h_tokens,
    int_value_of(output_tokens::varchar) as output_tokens,
    'metered_tokens' as billing_model,
    'usage' as charge_category,
    job_id as key_job_id
from validated;
