-- The keyed pseudonym of every distinct mart cell that names a person: the cell itself, or an email matched
-- lower-cased (a cell with an @). Cells that name nobody keep their value, NULLs stay NULL. `identities` counts
-- the people a cell names: more than one (an engineer id that is also someone's email) has no single pseudonym.
create or replace temp table cell_pseudonyms as

with cells as (
    select distinct cell from column_cells
),

final as (
    select cells.cell, min(pseudonyms.pseudonym) as pseudonym, count(*) as identities
    from cells
    inner join pseudonyms on pseudonyms.value = if(contains(cells.cell, '@'), lower(cells.cell), cells.cell)
    group by cells.cell
)

select * from final;
