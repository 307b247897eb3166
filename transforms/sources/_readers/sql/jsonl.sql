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

-- The streaming reader's macros (transforms/sources/_readers/jsonl.py). Per batch (`lines` = a source's
-- `source_lines` over `deliveries`): the counted lines per delivery, and the lines kept past the batch,
-- once per file (sha256): usage lines and rejects, slim columns, no text, no owner (a delivery's own).
create or replace temp macro jsonl_counts(lines) as table
select delivery, count(*) filter (where counted) as parsed, bool_or(not_utf8) as not_utf8
from query_table(lines)
group by delivery;

create or replace temp macro jsonl_kept(lines, deliveries) as table
with first_delivery as (
    select raw_sha256, min(delivery) as delivery from query_table(deliveries) group by raw_sha256
)
select f.raw_sha256, l.* exclude (delivery, owner, not_utf8)
from query_table(lines) as l
join first_delivery as f using (delivery)
where l.is_usage or (l.counted and l.reject_reason is not null);

-- The kept lines of every delivery, read back from the parts at `paths` (one per staged batch; a
-- delivery's `filename` names the part its lines are read from), with the delivery's number and owner:
-- a file delivered by two engineers is two deliveries.
create or replace temp macro jsonl_staged(deliveries, paths) as table
select s.* exclude (filename, raw_sha256), d.delivery, lower(trim(d.owner)) as owner
from read_parquet(paths, filename = true, hive_partitioning = false) as s
join query_table(deliveries) as d on d.raw_sha256 = s.raw_sha256 and d.filename = s.filename;

-- What the reader hands back: one reject row per rejected line, and per delivery parsed = loaded +
-- rejected with the billing dates its loaded lines cover.
create or replace temp macro jsonl_rejects(rejected, deliveries) as table
select d.raw_sha256, d.file, r.line, r.reject_field as field, r.reject_reason as reason
from query_table(rejected) as r join query_table(deliveries) as d using (delivery)
order by r.delivery, r.line;

create or replace temp macro jsonl_stats(rejected, dates, deliveries) as table
with rejects as (
    select delivery, count(*) as rejected from query_table(rejected) group by delivery
),
covered as (
    select delivery, min(min_date) as min_date, max(max_date) as max_date
    from query_table(dates)
    group by delivery
)
select
    d.raw_sha256,
    d.parsed,
    d.parsed - coalesce(r.rejected, 0) as loaded,
    coalesce(r.rejected, 0) as rejected,
    c.min_date,
    c.max_date
from query_table(deliveries) as d
left join rejects as r using (delivery)
left join covered as c using (delivery)
order by d.delivery;
