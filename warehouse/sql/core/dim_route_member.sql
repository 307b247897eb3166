create table core.dim_route_member as

-- Declared shared routes (a shared key, a gateway key) and their members, each over a date range. A route's
-- metered spend is split among its members only; a principal with no alias and no members stays unknown.
with members as (
    select * from src_route_members
),

final as (
    select
        provider,
        principal_kind,
        if(list_contains($case_insensitive_kinds, principal_kind), lower(trim(principal_id)), trim(principal_id))
            as principal_id,
        engineer_id,
        coalesce(valid_from, date '1970-01-01') as valid_from,
        valid_to
    from members
)

select distinct * from final
order by provider, principal_kind, principal_id, engineer_id, valid_from;

comment on table core.dim_route_member is 'Shared routes (a shared key, a gateway key) and the engineers who use them, each over a date range, from the route_members reference. A route''s metered spend is split among its members only, in proportion to their observational list cost on the same provider, billing day and model.';
comment on column core.dim_route_member.provider is 'Provider billing the route.';
comment on column core.dim_route_member.principal_kind is 'Kind of the route''s provider-side identity (api_key_id, ...), equal to the principal_kind of its usage rows.';
comment on column core.dim_route_member.principal_id is 'The route''s identity value; lower-cased for case-insensitive kinds.';
comment on column core.dim_route_member.engineer_id is 'An engineer who uses the route.';
comment on column core.dim_route_member.valid_from is 'First day (inclusive) the engineer is a member.';
comment on column core.dim_route_member.valid_to is 'Day (exclusive) the membership ends; null while current.';
