-- Negative token counts in API pages as delivered, before any parser reads them: every JSON key whose name
-- holds `tokens` with a negative number as its value, with the file, the line of the file and the field.
-- A parser rejects such a record at its line (so the lake never holds it); this finds it in the page itself,
-- so the build can stop on it instead of publishing a day without it.
-- Inputs: $paths (plain-text paths of the pages).
with pages as (
    select filename, content
    from read_text($paths)
),

lines as (
    select pages.filename, numbered.line, numbered.text
    from pages, unnest(string_split(pages.content, chr(10))) with ordinality as numbered(text, line)
    where contains(numbered.text, '-')
),

hits as (
    select
        filename,
        line,
        unnest(regexp_extract_all(text, '"([A-Za-z0-9_]*tokens[A-Za-z0-9_]*)"\s*:\s*(-[0-9][0-9.eE+-]*)', 0)) as hit
    from lines
),

final as (
    select
        filename,
        line::bigint as line,
        regexp_extract(hit, '"([A-Za-z0-9_]*)"', 1) as field,
        regexp_extract(hit, ':\s*(-[0-9.eE+-]*)', 1) as value
    from hits
)

select * from final
where try_cast(value as double) < 0
order by filename, line, field
