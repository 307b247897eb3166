-- The JSONL reader: one JSON document per line. `jsonl_lines(deliveries, paths)` gives one row per line
-- of the files at `paths`, read straight from the bytes (nothing large is stored): its delivery, owner
-- and 1-based number, whether it counts (blank lines keep the numbering, uncounted; CRLF accepted) and
-- its text `txt`. Line 1 always stays, so every file read shows: a file that is not UTF-8 as one
-- uncounted row flagged `not_utf8`, an empty file as one blank row. Only counted lines carry text to
-- parse. A source's mapping parses `txt` once for what it needs.
create or replace temp macro jsonl_lines(deliveries, paths) as table
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
    from query_table(deliveries) as d
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
)
select delivery, owner, not_utf8, line, counted, txt
from counted
where counted or line = 1;

-- The streaming reader's own tables (transforms/sources/_readers/jsonl.py), created empty with their types:
-- every delivery's lineage, each batch's line counts, rejected lines, and the dates each bucket's merge gives.
create or replace temp macro jsonl_delivery_columns() as table
select
    null::bigint as delivery,
    null::varchar as filename,
    null::varchar as raw_sha256,
    null::bigint as seq,
    null::timestamptz as ingested_at,
    null::varchar as file,
    null::varchar as owner
limit 0;

create or replace temp macro jsonl_count_columns() as table
select null::bigint as delivery, null::bigint as parsed, null::boolean as not_utf8
limit 0;

create or replace temp macro jsonl_reject_columns() as table
select null::bigint as delivery, null::bigint as line, null::varchar as reject_field, null::varchar as reject_reason
limit 0;

create or replace temp macro jsonl_date_columns() as table
select null::bigint as delivery, null::date as min_date, null::date as max_date
limit 0;

-- Per batch (`lines` = a source's `source_lines`): counted lines per delivery, the rejects, and the usage
-- lines the merge needs (the only per-line data kept past the batch).
create or replace temp macro jsonl_counts(lines) as table
select delivery, count(*) filter (where counted) as parsed, bool_or(not_utf8) as not_utf8
from query_table(lines)
group by delivery;

create or replace temp macro jsonl_line_rejects(lines) as table
select delivery, line, reject_field, reject_reason
from query_table(lines)
where counted and reject_reason is not null;

create or replace temp macro jsonl_kept(lines) as table
select * exclude (not_utf8)
from query_table(lines)
where is_usage;

-- What the reader hands back: one reject row per rejected line, and per delivery parsed = loaded +
-- rejected with the billing dates its loaded lines cover.
create or replace temp macro jsonl_rejects(rejected, deliveries) as table
select d.raw_sha256, d.file, r.line, r.reject_field as field, r.reject_reason as reason
from query_table(rejected) as r join query_table(deliveries) as d using (delivery)
order by r.delivery, r.line;

create or replace temp macro jsonl_stats(counts, rejected, dates, deliveries) as table
with parsed as (
    select delivery, sum(parsed)::bigint as parsed from query_table(counts) group by delivery
),
rejects as (
    select delivery, count(*) as rejected from query_table(rejected) group by delivery
),
covered as (
    select delivery, min(min_date) as min_date, max(max_date) as max_date
    from query_table(dates)
    group by delivery
)
select
    d.raw_sha256,
    coalesce(p.parsed, 0) as parsed,
    coalesce(p.parsed, 0) - coalesce(r.rejected, 0) as loaded,
    coalesce(r.rejected, 0) as rejected,
    c.min_date,
    c.max_date
from query_table(deliveries) as d
left join parsed as p using (delivery)
left join rejects as r using (delivery)
left join covered as c using (delivery)
order by d.delivery;
