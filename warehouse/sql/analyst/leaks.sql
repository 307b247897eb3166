-- Cells of the analyst file's text columns (`column_cells`, the distinct cells of each column and their rows)
-- that still name a person: a name or an email anywhere inside it (case-insensitive), an engineer id in its own
-- case as a whole word, the whole cell or inside longer text (a JSON string, a label) with no letter, digit or
-- underscore either side (a regex word boundary), so E1 is found in {"engineer":"E1"} or "E1-team" but not in
-- E10, XE1 or key_E1. Each matching identity counts the cell's rows once. Every distinct cell is tested once, and the substring test is an equi-join: an
-- identity inside a cell puts each of its 3-character grams in the cell, so only the cells holding the
-- identity's rarest gram are tested with `contains` (identities shorter than a gram are tested against every
-- cell), and only those that contain an engineer id are tested for its token boundaries.
with cells as (
    select distinct cell, lower(cell) as low from column_cells
),

people as (
    select row_number() over () as person, kind, value, lower(value) as low from identities
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
    select people.person, substr(people.low, i, 3) as gram
    from people, unnest(range(1, length(people.low) - 1)) as r(i)
),

rarest as (
    -- a gram no cell holds rules the identity out
    select person_grams.person, arg_min(person_grams.gram, coalesce(gram_cells.lows, 0)) as gram
    from person_grams
    left join gram_cells using (gram)
    group by person_grams.person
),

contained as (
    select low_grams.low, people.person
    from rarest
    inner join low_grams using (gram)
    inner join people using (person)
    where contains(low_grams.low, people.low)
    union all
    select lows.low, people.person
    from lows
    inner join people on length(people.low) < 3 and contains(lows.low, people.low)
),

matches as (
    select cells.cell, count(*) as people
    from cells
    inner join contained using (low)
    inner join people using (person)
    where people.kind <> 'engineer'
        or regexp_matches(cells.cell, '(^|[^A-Za-z0-9_])' || regexp_escape(people.value) || '([^A-Za-z0-9_]|$)')
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
