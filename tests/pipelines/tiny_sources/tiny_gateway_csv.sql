-- tiny_gateway_csv mapping: one CSV line (table `rows`, every column text) to one canonical request.
create or replace temp macro source_records(rows, source, provider, publisher) as table
with validated as (
    select
        *,
        first_problem([
            {'field': 'request_id', 'reason': string_reason(text_kind(request_id), request_id, false)},
            {'field': 'started_at', 'reason': timestamp_reason(text_kind(started_at), started_at, false)},
            {'field': 'input_tokens', 'reason': int_reason(text_kind(input_tokens), input_tokens, false)},
            {'field': 'output_tokens', 'reason': int_reason(text_kind(output_tokens), output_tokens, false)}
        ]) as problem,
        timestamp_value_of(text_kind(started_at), started_at) as ts
    from query_table(rows)
)
select
    delivery,
    line,
    problem.field as reject_field,
    problem.reason as reject_reason,
    case when problem is null then cast(ts as date) end as stat_date,
    cast(ts as date) as billing_date,
    ts as period_start,
    ts as period_end,
    source as source,
    provider as provider,
    publisher as publisher,
    model as model,
    model as model_raw,
    'email' as principal_kind,
    lower("user") as principal_id,
    int_value_of(input_tokens) as uncached_input_tokens,
    0::bigint as cache_read_tokens,
    0::bigint as cache_write_5m_tokens,
    0::bigint as cache_write_1h_tokens,
    int_value_of(output_tokens) as output_tokens,
    1::bigint as requests,
    'metered_tokens' as billing_model,
    'usage' as charge_category,
    request_id as key_request_id
from validated;
