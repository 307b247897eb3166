create table core.dim_alias as

-- Three origins: aliases written by hand (the aliases reference), every roster email, and identities pulled
-- from the providers' own key and user lists (src_pulled_identities: a key or user id, or an Anthropic key
-- name, owned by an email). A pulled identity belongs to the roster engineer with that email for the days
-- both hold, so a leaver's key stays theirs before they left and nobody's after. Whatever a person
-- declared wins: the days a hand alias or a shared route (route_members) gives to the same (kind, value)
-- are cut out of the pulled alias, whoever they name.
with aliases as (
    select * from src_aliases
),

pulled_identities as (
    select * from src_pulled_identities
),

members as (
    select * from src_route_members
),

engineers as (
    select * from core.dim_engineer
),

hand as (
    select
        engineer_id,
        kind,
        if(list_contains($case_insensitive_kinds, kind), lower(trim(value)), trim(value)) as value,
        coalesce(valid_from, date '1970-01-01') as valid_from,
        valid_to,
        'hand' as origin
    from aliases
),

roster_emails as (
    -- every roster email is an email alias of its engineer while the roster row is in force
    select engineer_id, 'email' as kind, lower(email) as value, valid_from, valid_to, 'roster' as origin
    from engineers
    where email is not null
),

owned as (
    select distinct
        e.engineer_id,
        p.kind,
        if(list_contains($case_insensitive_kinds, p.kind), lower(trim(p.value)), trim(p.value)) as value,
        greatest(coalesce(p.valid_from, date '1970-01-01'), e.valid_from) as valid_from,
        least(coalesce(p.valid_to, date '9999-12-31'), coalesce(e.valid_to, date '9999-12-31')) as valid_to
    from pulled_identities as p
    inner join engineers as e
        on e.email = lower(trim(p.email))
        and e.valid_from < coalesce(p.valid_to, date '9999-12-31')
        and coalesce(p.valid_from, date '1970-01-01') < coalesce(e.valid_to, date '9999-12-31')
),

pulled as (
    select *, row_number() over (order by kind, value, valid_from, valid_to, engineer_id) as alias_no
    from owned
),

declared as (
    select kind, value, valid_from, coalesce(valid_to, date '9999-12-31') as valid_to from hand
    union all
    select
        principal_kind,
        if(list_contains($case_insensitive_kinds, principal_kind), lower(trim(principal_id)), trim(principal_id)),
        coalesce(valid_from, date '1970-01-01'),
        coalesce(valid_to, date '9999-12-31')
    from members
),

cuts as (
    -- each declared range that overlaps a pulled alias of the same (kind, value)
    select p.alias_no, p.valid_from, p.valid_to, d.valid_from as cut_from, d.valid_to as cut_to
    from pulled as p
    inner join declared as d
        on d.kind = p.kind
        and d.value = p.value
        and d.valid_from < p.valid_to
        and p.valid_from < d.valid_to
),

bounds as (
    -- where the pieces of a pulled alias start and end: its own ends, and every cut's ends inside it
    select alias_no, valid_from as boundary from pulled
    union
    select alias_no, valid_to from pulled
    union
    select alias_no, cut_from from cuts where cut_from > valid_from
    union
    select alias_no, cut_to from cuts where cut_to < valid_to
),

pieces as (
    select alias_no, boundary as piece_from, lead(boundary) over (partition by alias_no order by boundary) as piece_to
    from bounds
),

kept as (
    -- no two kept pieces touch (a piece next to a cut is cut on one side), so none need merging
    select pieces.*
    from pieces
    where piece_to is not null
      and not exists (
          select 1 from cuts
          where cuts.alias_no = pieces.alias_no and cuts.cut_from <= pieces.piece_from and pieces.piece_from < cuts.cut_to
      )
),

pulled_aliases as (
    select
        p.engineer_id,
        p.kind,
        p.value,
        k.piece_from as valid_from,
        nullif(k.piece_to, date '9999-12-31') as valid_to,
        'pulled' as origin
    from kept as k
    inner join pulled as p using (alias_no)
),

final as (
    select * from hand
    union all
    select * from roster_emails
    union all
    select * from pulled_aliases
)

select * from final
order by kind, value, valid_from, engineer_id, origin;

comment on table core.dim_alias is 'Identities that resolve to an engineer (email, API key id, key name, provider user id, ...), each valid over a date range: written by hand, taken from the roster, or pulled from the providers'' own key and user lists. At most one engineer per (kind, value, day): a conflict stops the build.';
comment on column core.dim_alias.engineer_id is 'Engineer the identity belongs to.';
comment on column core.dim_alias.kind is 'Identity kind, equal to the principal_kind of usage rows it resolves (email, api_key_id, api_key_name, openai_user_id, anthropic_account_id, ...).';
comment on column core.dim_alias.value is 'Identity value; emails lower-cased so they match case-insensitively.';
comment on column core.dim_alias.valid_from is 'First day (inclusive) the alias applies. A pulled alias starts when the key was created (the user added), or when its owner joined the roster if later.';
comment on column core.dim_alias.valid_to is 'Day (exclusive) the alias stops applying; null while current. A pulled alias ends the day after the first pull that showed the key archived, expired or gone, or when its owner left the roster if earlier.';
comment on column core.dim_alias.origin is 'Where the alias comes from: hand (the aliases reference file), roster (the engineer''s work email from the roster) or pulled (the provider''s own API key and user lists, owner email matched to the roster). A hand alias or a declared shared route for the same kind and value overrides a pulled alias on the days it covers.';
