create table core.dim_alias as

with aliases as (
    select * from src_aliases
),

engineers as (
    select * from core.dim_engineer
),

explicit as (
    select
        engineer_id,
        kind,
        if(list_contains($case_insensitive_kinds, kind), lower(trim(value)), trim(value)) as value,
        coalesce(valid_from, date '1970-01-01') as valid_from,
        valid_to,
        'aliases' as origin
    from aliases
),

roster_emails as (
    -- every roster email is an email alias of its engineer while the roster row is in force
    select engineer_id, 'email' as kind, lower(email) as value, valid_from, valid_to, 'roster' as origin
    from engineers
    where email is not null
),

final as (
    select * from explicit
    union all
    select * from roster_emails
)

select * from final
order by kind, value, valid_from, engineer_id;

comment on table core.dim_alias is 'Identities that resolve to an engineer (email, API key id, provider user id, ...), each valid over a date range. At most one engineer per (kind, value, day): a conflict stops the build.';
comment on column core.dim_alias.engineer_id is 'Engineer the identity belongs to.';
comment on column core.dim_alias.kind is 'Identity kind, equal to the principal_kind of usage rows it resolves (email, api_key_id, openai_user_id, anthropic_account_id, ...).';
comment on column core.dim_alias.value is 'Identity value; emails lower-cased so they match case-insensitively.';
comment on column core.dim_alias.valid_from is 'First day (inclusive) the alias applies.';
comment on column core.dim_alias.valid_to is 'Day (exclusive) the alias stops applying; null while current.';
comment on column core.dim_alias.origin is 'aliases (the aliases reference file) or roster (the engineer''s work email from the roster).';
