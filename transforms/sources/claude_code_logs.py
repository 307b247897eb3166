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

# `usage_lines(paths)`: one row per line of the files at `paths`, read straight from the bytes
# (nothing large is stored): its delivery and 1-based number, whether it counts (blank lines keep
# the numbering, uncounted; CRLF accepted), why it is rejected (if it is) and the usage it carries
# (if any). Lines without `message.usage` (user, summary, system ...) and `<synthetic>` error
# lines load, no usage. Line 1 always stays, so every file read shows: a file that is not UTF-8
# as one uncounted row flagged `not_utf8`, an empty file as one blank row.
#
# Each line is parsed once, for its validity and the JSON of the four fields that matter; the
# small `usage` object is then parsed for its fields, and checked with the shared `*_reason`
# macros in the same order, with the same reasons, as a field-by-field lookup would be.
USAGE_LINES_SQL = """
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

-- Reads table `deliveries`, which must exist when the macro is created.
create or replace temp macro usage_lines(paths) as table
-- read_blob hands over one file at a time; the join gathers them (read_blob, the smaller side, is
-- its build side) and hands them on in full vectors. Whether a file is UTF-8 is tried file by
-- file before the join, so the text itself is decoded in place, never copied.
with blobs as (
    select filename, content, try(decode(content)) is null as not_utf8
    from read_blob(paths)
),
files as (
    select
        d.delivery,
        lower(trim(d.owner)) as owner,
        b.not_utf8,
        case when not b.not_utf8 then decode(b.content) end as text
    from deliveries as d
    join blobs as b on b.filename = d.filename
),
-- the text without a leading byte order mark (ltrim copies the text: only when there is one)
split as (
    select
        delivery,
        owner,
        not_utf8,
        string_split(
            case when starts_with(text, chr(65279)) then ltrim(text, chr(65279)) else coalesce(text, '') end,
            chr(10)
        ) as parts
    from files
),
numbered as (
    select delivery, owner, not_utf8, unnest(parts) as part, generate_subscripts(parts, 1) as line
    from split
),
-- trim and rtrim scan the whole line: they only run on lines that start or end with what they cut
stripped as (
    select
        delivery,
        owner,
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
-- the one full parse of a line: NULL when it is not JSON, else the JSON of the four fields read
parsed as (
    select
        *,
        case
            when counted
                then try(json_extract(txt, ['$.message.usage', '$.timestamp', '$.message.id', '$.message.model']))
        end as top
    from counted
    where counted or line = 1
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
        top[4] as model_json
    from parsed
),
flagged as (
    select
        *,
        coalesce(kinds[1], 'ABSENT') as usage_kind,
        root_kind = 'OBJECT'
            and coalesce(kinds[1], 'ABSENT') not in ('ABSENT', 'NULL')
            and coalesce(model_json ->> '$', '') <> '<synthetic>' as has_usage
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
        case when has_usage then model_json ->> '$' end as model_raw
    from flagged
),
checked_fields as (
    select
        *,
        case when has_usage and usage_kind <> 'OBJECT' then 'not an object' end as usage_reason,
        case when has_usage then timestamp_reason(ts_kind, ts_val, false) end as ts_reason,
        case when has_usage then string_reason(id_kind, message_id, false) end as id_reason,
        case when has_usage then int_reason(coalesce(kinds[2], 'ABSENT'), vals[2], false) end as input_reason,
        case when has_usage then int_reason(coalesce(kinds[3], 'ABSENT'), vals[3], false) end as output_reason,
        case when has_usage then int_reason(coalesce(kinds[4], 'ABSENT'), vals[4], true) end as cache_read_reason,
        case
            when has_usage and not has_cache_split then int_reason(coalesce(kinds[6], 'ABSENT'), vals[6], true)
        end as cache_write_reason,
        case when has_usage then int_reason(coalesce(kinds[7], 'ABSENT'), vals[7], true) end as cache_5m_reason,
        case when has_usage then int_reason(coalesce(kinds[8], 'ABSENT'), vals[8], true) end as cache_1h_reason
    from fields
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
    timestamp_value_of(ts_kind, ts_val) as ts,
    model_raw,
    vals[9] as service_tier,
    vals[10] as speed,
    vals[11] as inference_geo,
    int_value_of(vals[2]) as uncached_input_tokens,
    int_value_of(vals[4]) as cache_read_tokens,
    case when has_cache_split then int_value_of(vals[7]) else int_value_of(vals[6]) end as cache_write_5m_tokens,
    case when has_cache_split then int_value_of(vals[8]) else 0 end as cache_write_1h_tokens,
    int_value_of(vals[3]) as output_tokens
from validated
"""

# Every line of every delivery. DuckDB reads files on one thread per scan, so the files are read
# in two halves whose scans run side by side (`connect()` gives DuckDB two threads).
LINES_SQL = """
create or replace temp table line_usage as
select * from usage_lines($first_half)
union all
select * from usage_lines($second_half)
"""

# One row per (engineer, message.id) over every line of every delivery: output = max; input,
# cache and dimensions from the line with the max output (ties: the latest manifest seq, then
# the later delivery and line); the earliest timestamp; lineage from the delivery with the
# highest manifest seq.
MERGE_SQL = """
create or replace temp table merged as
with usage as (
    select l.*, d.seq
    from line_usage as l
    join deliveries as d using (delivery)
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
    'claude_code_logs' as source,
    'anthropic' as provider,
    'anthropic' as publisher,
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
    m.message_id
from messages as m
join deliveries as d on d.delivery = m.latest_delivery
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

LOST_SQL = "select filename from deliveries anti join line_usage using (delivery) order by delivery limit 1"

NOT_UTF8_SQL = """
select file from deliveries
where delivery in (select delivery from line_usage where not_utf8)
order by delivery
limit 1
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
    # every result below is ordered explicitly; not keeping insertion order lets the halves run together
    con.execute("set preserve_insertion_order = false")
    with plain_text_paths(files) as paths:
        open_deliveries(con, files, paths)
        con.execute(USAGE_LINES_SQL)
        distinct = sorted(set(paths))
        con.execute(LINES_SQL, {"first_half": distinct[0::2], "second_half": distinct[1::2]})
    lost = con.execute(LOST_SQL).fetchone()
    if lost is not None:  # read_blob names files as given; anything else is a bug, not bad data
        raise FileNotFoundError(lost[0])
    bad = con.execute(NOT_UTF8_SQL).fetchone()
    if bad is not None:
        raise UnreadableFile(bad[0], None, "not UTF-8")
    con.execute(MERGE_SQL)
    con.execute(CHECKED_SQL)
    return collect(con, KEY_COLUMNS, rows_sql=ROWS_SQL)
