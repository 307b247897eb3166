-- The Parquet reader: one row per row of every delivery, its columns as the file types them, `line` =
-- its 1-based row number in the file.
create or replace temp macro parquet_rows(deliveries, paths) as table
select d.delivery, p.file_row_number + 1 as line, p.* exclude (filename, file_row_number)
from read_parquet(paths, filename = true, file_row_number = true, union_by_name = true) as p
join query_table(deliveries) as d on d.filename = p.filename;

-- The columns of one file, for the structural check (a required column missing quarantines the file).
create or replace temp macro parquet_columns(path) as table
select name as column_name from parquet_schema(path) where name <> 'schema';

-- The kind of a typed value as the shared `*_reason` macros expect it (integers as 'BIGINT', NULL as 'NULL').
create or replace temp macro value_kind(v) as
    case
        when v is null then 'NULL'
        when typeof(v) in ('TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'UTINYINT', 'USMALLINT', 'UINTEGER') then 'BIGINT'
        when typeof(v) in ('FLOAT', 'DOUBLE') or starts_with(typeof(v), 'DECIMAL') then 'DOUBLE'
        else typeof(v)
    end;
