-- openai_usage mapping: one result `r` of an API page (table `results`, see the pages reader) to one
-- canonical record. OpenAI Usage API (`GET /v1/organization/usage/<endpoint>`): the endpoint is known by
-- the result's `object`, never by the file's name. Token endpoints (completions, embeddings, moderations)
-- carry tokens; the others carry their own unit (images, characters, seconds, tool calls) as `quantity`.
create or replace temp macro source_records(results, source, provider, publisher) as table
with typed as (
    select
        delivery, ordinal, period_start, period_end, r,
        case r ->> '$.object'
            when 'organization.usage.completions.result' then 'completions'
            when 'organization.usage.embeddings.result' then 'embeddings'
            when 'organization.usage.moderations.result' then 'moderations'
            when 'organization.usage.images.result' then 'images'
            when 'organization.usage.audio_speeches.result' then 'audio_speeches'
            when 'organization.usage.audio_transcriptions.result' then 'audio_transcriptions'
            when 'organization.usage.file_searches.result' then 'file_searches'
            when 'organization.usage.web_searches.result' then 'web_searches'
        end as endpoint
    from query_table(results)
),

validated as (
    select
        *,
        -- counts out of range read as 0 (int_value), so this never overflows; they are rejected below
        int_value(r, '$.input_tokens')
            - int_value(r, '$.input_cached_tokens')
            - int_value(r, '$.input_cache_write_tokens') as uncached,
        -- the endpoint's own unit, counted in `quantity`
        case endpoint
            when 'images' then 'images'
            when 'audio_speeches' then 'characters'
            when 'audio_transcriptions' then 'seconds'
            when 'file_searches' then 'num_requests'
            when 'web_searches' then 'num_requests'
        end as unit_field,
        first_problem([
            {
                'field': 'object',
                'reason': case when endpoint is null then 'not a usage result the puller knows' end
            },
            if(endpoint in ('completions', 'embeddings', 'moderations'), int_check(r, 'input_tokens', false), null),
            if(endpoint = 'completions', int_check(r, 'input_cached_tokens', true), null),
            if(endpoint = 'completions', int_check(r, 'input_cache_write_tokens', true), null),
            if(endpoint = 'completions', int_check(r, 'output_tokens', false), null),
            if(endpoint <> 'file_searches', int_check(r, 'num_model_requests', endpoint = 'web_searches'), null),
            if(unit_field is not null, int_check(r, unit_field, false), null),
            {'field': 'input_tokens',
             'reason': case when uncached < 0 then 'less than cached + cache write tokens' end}
        ]) as problem
    from typed
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
    -- OpenAI's input_tokens includes cached and cache-write tokens; embeddings and moderations have neither
    if(endpoint in ('completions', 'embeddings', 'moderations'), uncached, 0) as uncached_input_tokens,
    int_value(r, '$.input_cached_tokens') as cache_read_tokens,
    int_value(r, '$.input_cache_write_tokens') as cache_write_5m_tokens,
    0::bigint as cache_write_1h_tokens,
    int_value(r, '$.output_tokens') as output_tokens,
    -- model requests; a file search has none, its tool calls are its requests
    if(endpoint = 'file_searches', int_value(r, '$.num_requests'), int_value(r, '$.num_model_requests')) as requests,
    case
        when unit_field is not null then int_value(r, '$.' || coalesce(unit_field, 'num_requests'))::decimal(38, 12)
    end as quantity,
    case endpoint
        when 'images' then 'images'
        when 'audio_speeches' then 'characters'
        when 'audio_transcriptions' then 'seconds'
        when 'file_searches' then 'file_search_calls'
        when 'web_searches' then 'web_search_calls'
    end as unit,
    if(endpoint in ('completions', 'embeddings', 'moderations'), 'metered_tokens', 'other') as billing_model,
    'usage' as charge_category,
    endpoint as key_endpoint,
    r ->> '$.project_id' as key_project_id,
    r ->> '$.user_id' as key_user_id,
    r ->> '$.api_key_id' as key_api_key_id,
    r ->> '$.batch' as key_batch,
    r ->> '$.service_tier' as key_service_tier,
    r ->> '$.size' as key_size,
    r ->> '$.source' as key_source,
    r ->> '$.vector_store_id' as key_vector_store_id,
    r ->> '$.context_level' as key_context_level
from validated;
