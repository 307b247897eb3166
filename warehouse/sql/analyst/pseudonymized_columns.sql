-- The mart text columns holding at least one cell that names a person: only these are rewritten.
select distinct column_cells.table_name, column_cells.column_name
from column_cells
semi join cell_pseudonyms on cell_pseudonyms.cell = column_cells.cell
