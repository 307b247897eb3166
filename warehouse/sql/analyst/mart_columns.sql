-- The warehouse's mart tables and their columns, in order; text columns are the ones pseudonyms apply to.
select table_name, column_name, data_type = 'VARCHAR' as is_text
from duckdb_columns()
where database_name = 'wh' and schema_name = 'mart'
order by table_name, column_index
