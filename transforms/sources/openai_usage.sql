-- openai_usage mapping: one result `r` of an API page (table `results`, see the pages reader) to one
-- canonical record. OpenAI Usage API, completions (`GET /v1/organization/usage/completions`).
create or replace temp macro source_records(results, source, provider, publisher) as table
with validated as (
    select
        delivery, ordinal, period_start, period_end, r,
        -- counts out of range read as 0 (int_value), so this never overflows; they are rejected below
        int_value(r, '$.input_tokens')
            - int_value(r, '$.input_cached_tokens')
            - int_value(r, '$.input_cache_write_tokens') as uncached,
        first_problem([
            int_check(r, 'input_tokens', false),
            int_check(r, 'input_cached_tokens', true),
            int_check(r, 'input_cache_write_tokens', true),
            int_check(r, 'output_tokens', false),
            int_check(r, 'num_model_requests', false),
            {'field': 'input_tokens',
             'reason': case when uncached < 0 then 'less than cached + cache write tokens' end}
        ]) as problem
    from query_table(results)
)
select
    delivery, ordinal, period_start, period_end, problem,
    publisher as publisher,
    r ->> '$.model' as model,
    r ->> '$.model' as model_raw,
    case when r ->> '$.batch' = 'true' then 'batch' else r ->> '$.service_tier' end as service_tier,
    case
        when r ->> '$.user_id' is not null then 'openai_user_id'
        when r ->> '$.api_key_id' is not null then 'api_key_id'
    end as principal_kind,
    coalesce(r ->> '$.user_id', r ->> '$.api_key_id') as principal_id,
    'project' as scope_kind,
    coalesce(r ->> '$.project_id', 'default') as scope_id,
    uncached as uncached_input_tokens,
    int_value(r, '$.input_cached_tokens') as cache_read_tokens,
    int_value(r, '$.input_cache_write_tokens') as cache_write_5m_tokens,
    0::bigint as cache_write_1h_tokens,
    int_value(r, '$.output_tokens') as output_tokens,
    int_value(r, '$.num_model_requests') as requests,
    'metered_tokens' as billing_model,
    'usage' as charge_category,
    r ->> '$.project_id' as key_project_id,
    r ->> '$.user_id' as key_user_id,
    r ->> '$.api_key_id' as key_api_key_id,
    r ->> '$.batch' as key_batch,
    r ->> '$.service_tier' as key_service_tier
from validated;
