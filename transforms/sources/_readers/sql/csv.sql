-- The CSV reader: one row per data line of every delivery, every column as text, `line` = its line
-- number in the file (the header is line 1). `text_kind(val)` gives a text field the kind the shared
-- `*_reason` macros expect, so a mapping checks a CSV field as it checks a JSON one.
create or replace temp macro csv_rows(deliveries, paths) as table
with scanned as (
    select *, row_number() over (partition by filename) + 1 as line_no
    from read_csv(paths, all_varchar = true, header = true, filename = true, union_by_name = true)
)
select d.delivery, s.line_no as line, s.* exclude (filename, line_no)
from scanned as s join query_table(deliveries) as d on d.filename = s.filename;

create or replace temp macro text_kind(val) as
    case
        when val is null or val = '' then 'NULL'
        when regexp_full_match(val, '-?[0-9]+') then 'BIGINT'
        when try_cast(val as double) is not null then 'DOUBLE'
        else 'VARCHAR'
    end;

-- The columns of one file, for the structural check (a required column missing quarantines the file).
create or replace temp macro csv_columns(path) as table
select column_name from (describe select * from read_csv(path, all_varchar = true, header = true));
