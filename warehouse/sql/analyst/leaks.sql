-- Cells of the analyst file's text columns (`column_cells`, the distinct cells of each column and their rows)
-- that still name a person: an engineer id as the whole cell, a name or an email anywhere inside it
-- (case-insensitive). Each matching identity counts the cell's rows once. Every distinct cell is tested once,
-- and the substring test is an equi-join: an identity inside a cell puts each of its 3-character grams in the
-- cell, so only the cells holding the identity's rarest gram are tested with `contains` (identities shorter
-- than a gram are tested against every cell).
with cells as (
    select distinct cell, lower(cell) as low from column_cells
),

people as (
    select row_number() over () as person, kind, value, lower(value) as low from identities
),

inside as (
    -- every identity but an engineer id is looked for inside cells
    select * from people where kind <> 'engineer'
),

lows as (
    select distinct low from cells
),

low_grams as (
    select distinct lows.low, substr(lows.low, i, 3) as gram
    from lows, unnest(range(1, length(lows.low) - 1)) as r(i)
),

gram_cells as (
    select gram, count(*) as lows from low_grams group by gram
),

person_grams as (
    select inside.person, substr(inside.low, i, 3) as gram
    from inside, unnest(range(1, length(inside.low) - 1)) as r(i)
),

rarest as (
    -- a gram no cell holds rules the identity out
    select person_grams.person, arg_min(person_grams.gram, coalesce(gram_cells.lows, 0)) as gram
    from person_grams
    left join gram_cells using (gram)
    group by person_grams.person
),

contained as (
    select low_grams.low, inside.person
    from rarest
    inner join low_grams using (gram)
    inner join inside using (person)
    where contains(low_grams.low, inside.low)
    union all
    select lows.low, inside.person
    from lows
    inner join inside on length(inside.low) < 3 and contains(lows.low, inside.low)
),

matches as (
    select cells.cell, count(*) as people
    from cells
    inner join contained using (low)
    group by cells.cell
    union all
    select cells.cell, count(*) as people
    from cells
    inner join people on people.kind = 'engineer' and people.value = cells.cell
    group by cells.cell
),

final as (
    select column_cells.table_name, column_cells.column_name, sum(column_cells.n * matches.people) as cells
    from column_cells
    inner join matches using (cell)
    group by all
)

select table_name, column_name, cast(cells as bigint) as cells
from final
