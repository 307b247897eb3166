"""Claude Code session logs (JSONL) collected from engineers' machines.

Claude Code writes one line per streamed content block, so one API response appears on several
lines sharing `message.id` with growing `output_tokens`; sidechain files replay parent messages
under a new `requestId`. The file carries no identity: the engineer is the delivery's folder
owner. One canonical row per (engineer, `message.id`) across every file and delivery: the max
output, the input and cache fields once, the earliest timestamp. No money: `costUSD` is ignored.
"""

from __future__ import annotations

from collections.abc import Sequence

from transforms.common import ParseResult, RawFile, UnreadableFile, connect, plain_text_paths
from transforms.sources._pages import collect, open_deliveries

SOURCE = "claude_code_logs"

KEY_COLUMNS: tuple[str, ...] = ("owner", "message_id")

# The fields a usage line is checked and shaped from, looked up together in one parse of the line;
# `kinds[i]` and `vals[i]` below follow this order.
FIELDS_SQL = """
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
]
"""

# One row per line of every file read, straight from the bytes (nothing large is stored): its
# 1-based number, whether it counts (blank lines keep the numbering, uncounted; CRLF accepted),
# why it is rejected (if it is) and the usage it carries (if any). Lines without `message.usage`
# (user, summary, system ...) and `<synthetic>` error lines load, no row. A file that is not UTF-8
# gives one uncounted row flagged `not_utf8`, an empty file one blank row, so every file read shows.
# Each line is parsed once for the kinds of the root and of every field (NULL: not JSON), and once
# more, for its values, only when it carries usage.
LINES_SQL = """
create or replace temp table line_usage as
-- read_blob hands over one file at a time; gathering the files into one list first lets every step
-- below work on full vectors of lines instead of one file's few lines
with gathered as (
    select list({'filename': filename, 'text': ltrim(try(decode(content)), chr(65279))}) as files
    from read_blob($paths)
),
files as (
    select f.filename, f.text
    from (select unnest(files) as f from gathered)
),
split as (
    select filename, text is null as not_utf8, string_split(coalesce(text, ''), chr(10)) as parts
    from files
),
numbered as (
    select filename, not_utf8, unnest(parts) as part, generate_subscripts(parts, 1) as line
    from split
),
-- trim and rtrim scan the whole line: run them only on lines that start or end with what they cut
stripped as (
    select
        filename,
        not_utf8,
        line,
        case when ends_with(part, chr(13)) then rtrim(part, chr(13)) else part end as txt
    from numbered
),
counted as (
    select
        *,
        case
            when starts_with(txt, chr(32)) or starts_with(txt, chr(9)) then trim(txt, chr(32) || chr(9)) <> ''
            else txt <> ''
        end as counted
    from stripped
),
-- line 1 always stays, so that every file read shows
kept as (
    select * from counted where counted or line = 1
),
typed as (
    select
        filename,
        not_utf8,
        line,
        counted,
        txt,
        case
            when counted
                then try(json_extract(txt, ['$.message.usage', '$.timestamp', '$.message.id', '$.message.model']))
        end as top
    from kept
),
fields as (
    select
        filename,
        not_utf8,
        line,
        counted,
        top is not null as is_json,
        case
            when top is null then null
            when starts_with(txt, '{') then 'OBJECT'
            else json_type(txt)
        end as root_kind,
        top[1] as usage_json,
        top[2] as ts_json,
        top[3] as id_json,
        top[4] as model_json,
        case when top[1] is not null then json_type(top[1], usage_fields()) end as kinds,
    from typed
),
looked_up as (
    select
        *,
        coalesce(kinds[1], 'ABSENT') as usage_kind,
        case
            when root_kind = 'OBJECT' and coalesce(kinds[1], 'ABSENT') not in ('ABSENT', 'NULL')
                then json_extract_string(usage_json, usage_fields())
        end as vals
    from fields
),
classified as (
    select
        filename,
        not_utf8,
        line,
        counted,
        is_json,
        root_kind,
        usage_kind,
        root_kind = 'OBJECT'
            and usage_kind not in ('ABSENT', 'NULL')
            and coalesce(model_json ->> '$', '') <> '<synthetic>' as has_usage,
        kinds[5] = 'OBJECT' as has_cache_split,
        model_json ->> '$' as model_raw,
        coalesce(json_type(ts_json), 'ABSENT') as ts_kind,
        ts_json ->> '$' as ts_val,
        coalesce(json_type(id_json), 'ABSENT') as id_kind,
        id_json ->> '$' as message_id,
        coalesce(kinds[2], 'ABSENT') as input_kind,
        vals[2] as input_val,
        coalesce(kinds[3], 'ABSENT') as output_kind,
        vals[3] as output_val,
        coalesce(kinds[4], 'ABSENT') as cache_read_kind,
        vals[4] as cache_read_val,
        coalesce(kinds[6], 'ABSENT') as cache_write_kind,
        vals[6] as cache_write_val,
        coalesce(kinds[7], 'ABSENT') as cache_5m_kind,
        vals[7] as cache_5m_val,
        coalesce(kinds[8], 'ABSENT') as cache_1h_kind,
        vals[8] as cache_1h_val,
        vals[9] as service_tier,
        vals[10] as speed,
        vals[11] as inference_geo
    from looked_up
),
checked_fields as (
    select
        *,
        case when has_usage then
            case when usage_kind <> 'OBJECT' then 'not an object' end
        end as usage_reason,
        case when has_usage then timestamp_reason(ts_kind, ts_val, false) end as ts_reason,
        case when has_usage then string_reason(id_kind, message_id, false) end as id_reason,
        case when has_usage then int_reason(input_kind, input_val, false) end as input_reason,
        case when has_usage then int_reason(output_kind, output_val, false) end as output_reason,
        case when has_usage then int_reason(cache_read_kind, cache_read_val, true) end as cache_read_reason,
        case when has_usage and not has_cache_split then int_reason(cache_write_kind, cache_write_val, true) end
            as cache_write_reason,
        case when has_usage then int_reason(cache_5m_kind, cache_5m_val, true) end as cache_5m_reason,
        case when has_usage then int_reason(cache_1h_kind, cache_1h_val, true) end as cache_1h_reason
    from classified
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
    d.delivery,
    v.line,
    v.counted,
    v.not_utf8,
    v.problem.field as reject_field,
    v.problem.reason as reject_reason,
    v.counted and v.has_usage and v.problem is null as is_usage,
    lower(trim(d.owner)) as owner,
    d.seq,
    d.raw_sha256,
    d.ingested_at,
    v.message_id,
    timestamp_value_of(v.ts_kind, v.ts_val) as ts,
    v.model_raw,
    v.service_tier,
    v.speed,
    v.inference_geo,
    int_value_of(v.input_val) as uncached_input_tokens,
    int_value_of(v.cache_read_val) as cache_read_tokens,
    case when v.has_cache_split then int_value_of(v.cache_5m_val) else int_value_of(v.cache_write_val) end
        as cache_write_5m_tokens,
    case when v.has_cache_split then int_value_of(v.cache_1h_val) else 0 end as cache_write_1h_tokens,
    int_value_of(v.output_val) as output_tokens
from validated as v
join deliveries as d using (filename)
"""

# One row per (engineer, message.id) over every line of every delivery: output = max; input,
# cache and dimensions from the line with the max output; the earliest timestamp; lineage from
# the delivery with the highest manifest seq.
MERGE_SQL = """
create or replace temp table merged as
with usage as (
    select * from line_usage where is_usage
),
best as (
    select *
    from usage
    qualify row_number() over (
        partition by owner, message_id
        order by output_tokens desc, seq desc, delivery desc, line desc
    ) = 1
),
spans as (
    select
        owner,
        message_id,
        min(ts) as first_ts,
        first(raw_sha256 order by seq desc, delivery desc) as raw_sha256,
        first(ingested_at order by seq desc, delivery desc) as ingested_at
    from usage
    group by owner, message_id
)
select
    cast(s.first_ts as date) as billing_date,
    s.first_ts as period_start,
    s.first_ts as period_end,
    'claude_code_logs' as source,
    'anthropic' as provider,
    'anthropic' as publisher,
    b.model_raw as model,
    b.model_raw,
    b.service_tier,
    b.inference_geo,
    b.speed,
    'email' as principal_kind,
    b.owner as principal_id,
    b.uncached_input_tokens,
    b.cache_read_tokens,
    b.cache_write_5m_tokens,
    b.cache_write_1h_tokens,
    b.output_tokens,
    1::bigint as requests,
    'metered_tokens' as billing_model,
    'usage' as charge_category,
    s.raw_sha256,
    s.ingested_at,
    b.owner,
    b.message_id
from best as b
join spans as s using (owner, message_id)
"""

# Per-line view for rejects and per-file stats: a usage line's date is the billing date of the
# row it merged into (the partition that row lands in).
CHECKED_SQL = """
create or replace temp table checked as
select l.delivery, l.line, l.reject_field, l.reject_reason, m.billing_date as stat_date
from line_usage as l
left join merged as m on l.is_usage and m.owner = l.owner and m.message_id = l.message_id
where l.counted
"""

ROWS_SQL = """
select *, row_number() over (order by owner, message_id) as delivery_rank
from merged
"""


def parse(files: Sequence[RawFile]) -> ParseResult:
    """Per-engineer Claude Code usage, one row per (engineer, API message) across all deliveries.

    Streamed duplicates and sidechain replays collapse into one row with the max output tokens.
    A bad line is rejected with its line number and field and the rest of the file loads; a file
    that is not UTF-8 text, or a delivery without an owner, raises `UnreadableFile`.
    """
    if not files:
        return ParseResult.empty()
    for f in files:  # per delivery, not per row: the engineer comes from the landing folder
        if not (f.provenance.get("owner") or "").strip():
            raise UnreadableFile(f.name, "provenance.owner", "no engineer email for this delivery")
    con = connect()
    con.execute(FIELDS_SQL)
    with plain_text_paths(files) as paths:
        open_deliveries(con, files, paths)
        con.execute(LINES_SQL, {"paths": sorted(set(paths))})
    lost = con.execute(
        "select filename from deliveries anti join line_usage using (delivery) order by delivery limit 1"
    ).fetchone()
    if lost is not None:  # read_blob names files as given; anything else is a bug, not bad data
        raise FileNotFoundError(lost[0])
    bad = con.execute(
        "select file from deliveries where delivery in (select delivery from line_usage where not_utf8)"
        " order by delivery limit 1"
    ).fetchone()
    if bad is not None:
        raise UnreadableFile(bad[0], None, "not UTF-8")
    con.execute(MERGE_SQL)
    con.execute(CHECKED_SQL)
    return collect(con, KEY_COLUMNS, rows_sql=ROWS_SQL)
