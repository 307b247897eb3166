-- Every value that names a person in the warehouse: engineer ids, display names, and emails (the roster's,
-- the aliases' and every provider principal that is an email), emails lower-cased as the warehouse keeps them.
with engineers as (
    select * from wh.core.dim_engineer
),

emails as (
    select lower(email) as value from engineers where email is not null
    union
    select lower(value) from wh.core.dim_alias where contains(value, '@')
    union
    select lower(principal_id) from wh.core.fct_spend where contains(principal_id, '@')
),

final as (
    select distinct 'engineer' as kind, engineer_id as value from engineers where engineer_id is not null
    union
    select distinct 'name' as kind, name as value from engineers where name is not null and name <> ''
    union
    select distinct 'email' as kind, value from emails
)

select * from final
order by kind, value
