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
from transforms.sources._pages import collect, open_batch

SOURCE = "claude_code_logs"

KEY_COLUMNS: tuple[str, ...] = ("owner", "message_id")

# Non-blank lines with their 1-based line numbers (blank lines keep the numbering, uncounted);
# CRLF line ends are accepted.
LINES_SQL = """
create or replace temp table lines as
with split as (
    select
        delivery,
        lower(trim(owner)) as owner,
        string_split(text, chr(10)) as parts
    from pages
),
numbered as (
    select delivery, owner, rtrim(unnest(parts), chr(13)) as txt, generate_subscripts(parts, 1) as line
    from split
)
select delivery, owner, line, case when json_valid(txt) then txt end::json as j
from numbered
where trim(txt, chr(32) || chr(9)) <> ''
"""

# One row per line: why it is rejected (if it is), and the usage it carries (if any). Lines
# without `message.usage` (user, summary, system ...) and `<synthetic>` error lines load, no row.
CHECK_SQL = """
create or replace temp table line_usage as
with classified as (
    select
        *,
        j is not null
            and json_type(j) = 'OBJECT'
            and coalesce(json_type(j, '$.message.usage'), 'NULL') <> 'NULL'
            and coalesce(j ->> '$.message.model', '') <> '<synthetic>' as has_usage,
        json_type(j, '$.message.usage.cache_creation') = 'OBJECT' as has_cache_split
    from lines
),
validated as (
    select
        *,
        case
            when j is null then {'field': null, 'reason': 'not JSON'}
            when json_type(j) <> 'OBJECT' then {'field': null, 'reason': 'not a JSON object'}
            when has_usage then first_problem([
                {'field': 'message.usage',
                 'reason': case when json_type(j, '$.message.usage') <> 'OBJECT' then 'not an object' end},
                timestamp_check(j, 'timestamp', false),
                string_check(j, 'message.id', false),
                int_check(j, 'message.usage.input_tokens', false),
                int_check(j, 'message.usage.output_tokens', false),
                int_check(j, 'message.usage.cache_read_input_tokens', true),
                case
                    when has_cache_split then {'field': null, 'reason': null}
                    else int_check(j, 'message.usage.cache_creation_input_tokens', true)
                end,
                int_check(j, 'message.usage.cache_creation.ephemeral_5m_input_tokens', true),
                int_check(j, 'message.usage.cache_creation.ephemeral_1h_input_tokens', true)
            ])
        end as problem
    from classified
)
select
    v.delivery,
    v.line,
    v.problem.field as reject_field,
    v.problem.reason as reject_reason,
    v.has_usage and v.problem is null as is_usage,
    v.owner,
    p.seq,
    p.raw_sha256,
    p.ingested_at,
    j ->> '$.message.id' as message_id,
    timestamp_value(j, '$.timestamp') as ts,
    j ->> '$.message.model' as model_raw,
    j ->> '$.message.usage.service_tier' as service_tier,
    j ->> '$.message.usage.speed' as speed,
    j ->> '$.message.usage.inference_geo' as inference_geo,
    int_value(j, '$.message.usage.input_tokens') as uncached_input_tokens,
    int_value(j, '$.message.usage.cache_read_input_tokens') as cache_read_tokens,
    case
        when has_cache_split then int_value(j, '$.message.usage.cache_creation.ephemeral_5m_input_tokens')
        else int_value(j, '$.message.usage.cache_creation_input_tokens')
    end as cache_write_5m_tokens,
    case
        when has_cache_split then int_value(j, '$.message.usage.cache_creation.ephemeral_1h_input_tokens')
        else 0
    end as cache_write_1h_tokens,
    int_value(j, '$.message.usage.output_tokens') as output_tokens
from validated as v
join pages as p using (delivery)
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
    with plain_text_paths(files) as paths:
        open_batch(con, files, paths)
    bad = con.execute("select file from pages where text is null order by delivery limit 1").fetchone()
    if bad is not None:
        raise UnreadableFile(bad[0], None, "not UTF-8")
    con.execute(LINES_SQL)
    con.execute(CHECK_SQL)
    con.execute(MERGE_SQL)
    con.execute(CHECKED_SQL)
    return collect(con, KEY_COLUMNS, rows_sql=ROWS_SQL)
