-- claude_code_logs mapping: Claude Code session JSONL (the JSONL reader's lines) to one canonical row per
-- (engineer, `message.id`).
--
-- `source_lines(deliveries, paths)`: one row per line: whether it counts, why it is rejected (if it
-- is) and the usage it carries (if any). Lines without `message.usage` (user, summary, system ...) and
-- `<synthetic>` error lines load, no usage. Each line is parsed once, for its validity and the JSON of
-- the four fields that matter; the small `usage` object is then parsed for its fields, and checked with
-- the shared `*_reason` macros in the same order, with the same reasons, as a field-by-field lookup would be.
--
-- `source_rows(lines, deliveries, ...)`: one row per (engineer, message.id) over every line of every
-- delivery: output = max; input, cache and dimensions from the line with the max output (ties: the latest
-- manifest seq, then the later delivery and line); the earliest timestamp; lineage from the delivery with
-- the highest manifest seq; `delivery_rank` orders the rows for `keep_latest`.
--
-- `source_checked(lines, rows)`: per-line view for rejects and per-file stats: a usage line's date is the
-- billing date of the row it merged into (the partition that row lands in).

-- The fields of `message.usage` read, relative to it; `kinds[i]` / `vals[i]` follow this order.
create or replace temp macro usage_fields() as [
    '$',
    '$.input_tokens',
    '$.output_tokens',
    '$.cache_read_input_tokens',
    '$.cache_creation',
    '$.cache_creation_input_tokens',
    '$.cache_creation.ephemeral_5m_input_tokens',
    '$.cache_creation.ephemeral_1h_input_tokens',
    '$.service_tier',
    '$.speed',
    '$.inference_geo'
];

create or replace temp macro source_lines(deliveries, paths) as table
-- the one full parse of a line: NULL when it is not JSON, else the JSON of the four fields read
with parsed as (
    select
        *,
        case
            when counted
                then try(json_extract(txt, ['$.message.usage', '$.timestamp', '$.message.id', '$.message.model']))
        end as top
    from jsonl_lines(deliveries, paths)
),
classified as (
    select
        delivery,
        owner,
        not_utf8,
        line,
        counted,
        top is not null as is_json,
        -- JSON that starts with '{' is an object; only other lines are parsed again to tell
        case
            when top is null then null
            when starts_with(txt, '{') then 'OBJECT'
            else json_type(txt)
        end as root_kind,
        case when top[1] is not null then json_type(top[1], usage_fields()) end as kinds,
        top[1] as usage_json,
        top[2] as ts_json,
        top[3] as id_json,
        top[4] ->> '$' as model_text
    from parsed
),
flagged as (
    select
        *,
        coalesce(kinds[1], 'ABSENT') as usage_kind,
        root_kind = 'OBJECT'
            and coalesce(kinds[1], 'ABSENT') not in ('ABSENT', 'NULL')
            and coalesce(model_text, '') <> '<synthetic>' as has_usage
    from classified
),
fields as (
    select
        delivery,
        owner,
        not_utf8,
        line,
        counted,
        is_json,
        root_kind,
        usage_kind,
        has_usage,
        kinds,
        coalesce(kinds[5], 'ABSENT') = 'OBJECT' as has_cache_split,
        case when has_usage then json_extract_string(usage_json, usage_fields()) end as vals,
        case when has_usage then coalesce(json_type(ts_json), 'ABSENT') end as ts_kind,
        case when has_usage then ts_json ->> '$' end as ts_val,
        case when has_usage then coalesce(json_type(id_json), 'ABSENT') end as id_kind,
        case when has_usage then id_json ->> '$' end as message_id,
        case when has_usage then model_text end as model_raw
    from flagged
),
-- each value's text cast once, for its check and its value (a macro would repeat the cast)
cast_fields as (
    select
        *,
        timestamp_parsed(ts_kind, ts_val) as ts_parsed,
        try_cast(vals[2] as bigint) as input_n,
        try_cast(vals[3] as bigint) as output_n,
        try_cast(vals[4] as bigint) as cache_read_n,
        try_cast(vals[6] as bigint) as cache_write_n,
        try_cast(vals[7] as bigint) as cache_5m_n,
        try_cast(vals[8] as bigint) as cache_1h_n
    from fields
),
checked_fields as (
    select
        *,
        case when has_usage and usage_kind <> 'OBJECT' then 'not an object' end as usage_reason,
        case when has_usage then timestamp_reason_parsed(ts_kind, ts_parsed, false) end as ts_reason,
        case when has_usage then string_reason(id_kind, message_id, false) end as id_reason,
        case when has_usage then int_reason_cast(coalesce(kinds[2], 'ABSENT'), input_n, false) end as input_reason,
        case when has_usage then int_reason_cast(coalesce(kinds[3], 'ABSENT'), output_n, false) end as output_reason,
        case
            when has_usage then int_reason_cast(coalesce(kinds[4], 'ABSENT'), cache_read_n, true)
        end as cache_read_reason,
        case
            when has_usage and not has_cache_split
                then int_reason_cast(coalesce(kinds[6], 'ABSENT'), cache_write_n, true)
        end as cache_write_reason,
        case when has_usage then int_reason_cast(coalesce(kinds[7], 'ABSENT'), cache_5m_n, true) end as cache_5m_reason,
        case when has_usage then int_reason_cast(coalesce(kinds[8], 'ABSENT'), cache_1h_n, true) end as cache_1h_reason
    from cast_fields
),
-- the first failing check, in this order
validated as (
    select
        *,
        case
            when not counted then null
            when not is_json then {'field': null, 'reason': 'not JSON'}
            when root_kind <> 'OBJECT' then {'field': null, 'reason': 'not a JSON object'}
            when not has_usage then null
            when usage_reason is not null then {'field': 'message.usage', 'reason': usage_reason}
            when ts_reason is not null then {'field': 'timestamp', 'reason': ts_reason}
            when id_reason is not null then {'field': 'message.id', 'reason': id_reason}
            when input_reason is not null then {'field': 'message.usage.input_tokens', 'reason': input_reason}
            when output_reason is not null then {'field': 'message.usage.output_tokens', 'reason': output_reason}
            when cache_read_reason is not null
                then {'field': 'message.usage.cache_read_input_tokens', 'reason': cache_read_reason}
            when cache_write_reason is not null
                then {'field': 'message.usage.cache_creation_input_tokens', 'reason': cache_write_reason}
            when cache_5m_reason is not null
                then {'field': 'message.usage.cache_creation.ephemeral_5m_input_tokens', 'reason': cache_5m_reason}
            when cache_1h_reason is not null
                then {'field': 'message.usage.cache_creation.ephemeral_1h_input_tokens', 'reason': cache_1h_reason}
        end as problem
    from checked_fields
)
select
    delivery,
    line,
    counted,
    not_utf8,
    problem.field as reject_field,
    problem.reason as reject_reason,
    counted and has_usage and problem is null as is_usage,
    owner,
    message_id,
    timestamp_value_parsed(ts_parsed) as ts,
    model_raw,
    vals[9] as service_tier,
    vals[10] as speed,
    vals[11] as inference_geo,
    int_value_cast(input_n) as uncached_input_tokens,
    int_value_cast(cache_read_n) as cache_read_tokens,
    case when has_cache_split then int_value_cast(cache_5m_n) else int_value_cast(cache_write_n) end
        as cache_write_5m_tokens,
    case when has_cache_split then int_value_cast(cache_1h_n) else 0 end as cache_write_1h_tokens,
    int_value_cast(output_n) as output_tokens
from validated;

create or replace temp macro source_rows(lines, deliveries, source, provider, publisher) as table
with usage as (
    select l.*, d.seq
    from query_table(lines) as l
    join query_table(deliveries) as d using (delivery)
    where l.is_usage
),
messages as (
    select
        owner,
        message_id,
        min(ts) as first_ts,
        arg_max(
            {
                'model_raw': model_raw,
                'service_tier': service_tier,
                'inference_geo': inference_geo,
                'speed': speed,
                'uncached_input_tokens': uncached_input_tokens,
                'cache_read_tokens': cache_read_tokens,
                'cache_write_5m_tokens': cache_write_5m_tokens,
                'cache_write_1h_tokens': cache_write_1h_tokens,
                'output_tokens': output_tokens
            },
            (output_tokens, seq, delivery, line)
        ) as best,
        arg_max(delivery, (seq, delivery)) as latest_delivery
    from usage
    group by owner, message_id
)
select
    cast(m.first_ts as date) as billing_date,
    m.first_ts as period_start,
    m.first_ts as period_end,
    source as source,
    provider as provider,
    publisher as publisher,
    m.best.model_raw as model,
    m.best.model_raw,
    m.best.service_tier,
    m.best.inference_geo,
    m.best.speed,
    'email' as principal_kind,
    m.owner as principal_id,
    m.best.uncached_input_tokens,
    m.best.cache_read_tokens,
    m.best.cache_write_5m_tokens,
    m.best.cache_write_1h_tokens,
    m.best.output_tokens,
    1::bigint as requests,
    'metered_tokens' as billing_model,
    'usage' as charge_category,
    d.raw_sha256,
    d.ingested_at,
    m.owner,
    m.message_id,
    row_number() over (order by m.owner, m.message_id) as delivery_rank
from messages as m
join query_table(deliveries) as d on d.delivery = m.latest_delivery;

create or replace temp macro source_checked(lines, rows) as table
select l.delivery, l.line, l.reject_field, l.reject_reason, m.billing_date as stat_date
from query_table(lines) as l
left join query_table(rows) as m on l.is_usage and m.owner = l.owner and m.message_id = l.message_id
where l.counted;
