-- Blocking check: a principal is either one engineer's (an alias) or a shared route (route members), never
-- both on the same day. Either reading would charge someone the other one disowns, so the build stops.
with aliases as (
    select * from core.dim_alias
),

members as (
    select * from core.dim_route_member
),

conflicts as (
    select
        members.provider,
        members.principal_kind as kind,
        members.principal_id as value,
        aliases.engineer_id as alias_engineer,
        members.engineer_id as member_engineer,
        greatest(aliases.valid_from, members.valid_from) as overlap_from
    from members
    inner join aliases
        on aliases.kind = members.principal_kind
        and aliases.value = members.principal_id
        and aliases.valid_from < coalesce(members.valid_to, date '9999-12-31')
        and members.valid_from < coalesce(aliases.valid_to, date '9999-12-31')
),

final as (
    select distinct * from conflicts
)

select * from final
order by provider, kind, value, overlap_from, alias_engineer, member_engineer
