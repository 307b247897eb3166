-- anthropic_usage mapping: one result `r` of an API page (table `results`, see the pages reader) to one
-- canonical record. Anthropic Admin API messages usage report (`GET /v1/organizations/usage_report/messages`).
create or replace temp macro source_records(results, source, provider, publisher) as table
with validated as (
    select
        delivery, ordinal, period_start, period_end, r,
        first_problem([
            int_check(r, 'uncached_input_tokens', false),
            int_check(r, 'cache_read_input_tokens', false),
            int_check(r, 'cache_creation.ephemeral_5m_input_tokens', true),
            int_check(r, 'cache_creation.ephemeral_1h_input_tokens', true),
            int_check(r, 'output_tokens', false)
        ]) as problem
    from query_table(results)
)
select
    delivery, ordinal, period_start, period_end, problem,
    publisher as publisher,
    r ->> '$.model' as model,
    r ->> '$.model' as model_raw,
    r ->> '$.context_window' as context_window,
    r ->> '$.service_tier' as service_tier,
    r ->> '$.inference_geo' as inference_geo,
    r ->> '$.speed' as speed,
    case
        when r ->> '$.account_id' is not null then 'anthropic_account_id'
        when r ->> '$.api_key_id' is not null then 'api_key_id'
        when r ->> '$.service_account_id' is not null then 'service_account_id'
    end as principal_kind,
    coalesce(r ->> '$.account_id', r ->> '$.api_key_id', r ->> '$.service_account_id') as principal_id,
    'workspace' as scope_kind,
    coalesce(r ->> '$.workspace_id', 'default') as scope_id,
    int_value(r, '$.uncached_input_tokens') as uncached_input_tokens,
    int_value(r, '$.cache_read_input_tokens') as cache_read_tokens,
    int_value(r, '$.cache_creation.ephemeral_5m_input_tokens') as cache_write_5m_tokens,
    int_value(r, '$.cache_creation.ephemeral_1h_input_tokens') as cache_write_1h_tokens,
    int_value(r, '$.output_tokens') as output_tokens,
    'metered_tokens' as billing_model,
    'usage' as charge_category,
    r ->> '$.account_id' as key_account_id,
    r ->> '$.api_key_id' as key_api_key_id,
    r ->> '$.service_account_id' as key_service_account_id,
    r ->> '$.workspace_id' as key_workspace_id
from validated;
