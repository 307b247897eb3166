-- The distinct cells of one mart text column (the temp view `column_values`) and how many rows hold each: a
-- mart column holds far fewer distinct values than rows, so pseudonyms and the leak test work on these.
insert into column_cells
select $table_name as table_name, $column_name as column_name, cell, count(*) as n
from column_values
where cell is not null
group by cell;
