-- The tables of a build attached as `wh` (the core and mart schemas), with their documented meaning.
select schema_name || '.' || table_name as table_name, coalesce(comment, '') as comment
from duckdb_tables()
where database_name = 'wh'
order by schema_name, table_name
