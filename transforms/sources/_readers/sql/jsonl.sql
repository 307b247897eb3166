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
