-- Cells of one staged column that still name a person: an engineer id as the whole cell, a name or an email
-- anywhere inside it. Each distinct cell is tested once, weighted by how many rows hold it: the substring
-- test pairs every cell with every identity, and a mart column holds far fewer distinct values than rows.
-- Only a cell with an @ can hold an email that has one.
with cells as (
    select cell, lower(cell) as low, count(*) as n
    from stage_cells
    where cell is not null
    group by cell
),

people as (
    select kind, value, lower(value) as low from identities
),

whole as (
    select cells.n
    from cells
    inner join people on people.kind = 'engineer' and cells.cell = people.value
),

names as (
    select cells.n
    from cells
    inner join people on people.kind = 'name' and contains(cells.low, people.low)
),

emails as (
    select cells.n
    from (select * from cells where contains(low, '@')) as cells
    inner join people on people.kind = 'email' and contains(people.low, '@') and contains(cells.low, people.low)
),

other as (
    -- every other identity (an email without an '@' included) is tested inside every cell
    select cells.n
    from cells
    inner join people
        on people.kind not in ('engineer', 'name')
        and not (people.kind = 'email' and contains(people.low, '@'))
        and contains(cells.low, people.low)
),

final as (
    select n from whole
    union all
    select n from names
    union all
    select n from emails
    union all
    select n from other
)

select cast(coalesce(sum(n), 0) as bigint) as cells
from final
