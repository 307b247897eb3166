-- Cells of one staged column that still name a person: an engineer id as the whole cell, a name or an email
-- anywhere inside it.
select count(*) as cells
from stage_cells
inner join identities
    on if(identities.kind = 'engineer', stage_cells.cell = identities.value, contains(lower(stage_cells.cell), lower(identities.value)))
