-- The rewrite of every distinct mart cell that names a person: the pseudonym of the cell itself (an email
-- matched lower-cased: a value with an @), or, for a JSON object (mart.focus.Tags), the same object with each
-- top-level string value that names a person replaced by its pseudonym, members in their order. The rewrite
-- depends on the cell's value alone. Cells that name nobody keep their value, NULLs stay NULL. `identities`
-- counts the people one value names: more than one (an engineer id that is also someone's email) has no single
-- pseudonym.
create or replace temp table cell_pseudonyms as

with cells as (
    select distinct cell from column_cells
),

named as (
    select value as named_value, min(pseudonym) as pseudonym, count(*) as identities
    from pseudonyms
    group by value
),

whole as (
    select cells.cell, named.pseudonym, named.identities
    from cells
    inner join named on named.named_value = if(contains(cells.cell, '@'), lower(cells.cell), cells.cell)
),

objects as (
    select cell from cells where left(cell, 1) = '{' and json_valid(cell) and json_type(cell) = 'OBJECT'
),

members as (
    select
        objects.cell,
        member.id,
        member.key,
        member.value::varchar as json_value,
        if(member.type = 'VARCHAR', member.value ->> '$', null) as text
    from objects, json_each(objects.cell) as member
),

rewritten as (
    select
        members.cell,
        '{' || string_agg(
            to_json(members.key) || ':' || coalesce(to_json(named.pseudonym)::varchar, members.json_value),
            ',' order by members.id
        ) || '}' as pseudonym,
        coalesce(max(named.identities), 0) as identities
    from members
    left join named
        on named.named_value = if(contains(members.text, '@'), lower(members.text), members.text)
    group by members.cell
    having count(named.pseudonym) > 0
),

final as (
    select * from whole
    union all
    select * from rewritten where cell not in (select cell from whole)
)

select * from final;
