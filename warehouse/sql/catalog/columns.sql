-- The columns of every table of a build attached as `wh`, in table order, with type and documented meaning.
select
    schema_name || '.' || table_name as table_name,
    column_name,
    data_type,
    coalesce(comment, '') as comment
from duckdb_columns()
where database_name = 'wh'
order by schema_name, table_name, column_index
