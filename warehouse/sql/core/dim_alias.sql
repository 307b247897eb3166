create table core.dim_alias as

with aliases as (
    select * from src_aliases
),

final as (
    select
        engineer_id,
        kind,
        case when kind like '%email%' then lower(trim(value)) else trim(value) end as value,
        coalesce(valid_from, date '1970-01-01') as valid_from,
        valid_to
    from aliases
)

select * from final
order by kind, value, valid_from;

comment on table core.dim_alias is 'Identities that resolve to an engineer (email, API key id, provider user id, ...), each valid over a date range.';
comment on column core.dim_alias.engineer_id is 'Engineer the identity belongs to.';
comment on column core.dim_alias.kind is 'Identity kind, equal to the principal_kind of usage rows it resolves (email, api_key_id, openai_user_id, anthropic_account_id, ...).';
comment on column core.dim_alias.value is 'Identity value; emails lower-cased so they match case-insensitively.';
comment on column core.dim_alias.valid_from is 'First day (inclusive) the alias applies.';
comment on column core.dim_alias.valid_to is 'Day (exclusive) the alias stops applying; null while current.';
