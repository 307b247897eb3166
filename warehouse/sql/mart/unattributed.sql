create table mart.unattributed as

-- What an admin can fix: unresolved principals by spend (add an alias, rerun), and billed dollars that no
-- usage carried (usually usage the metered source does not report, such as code execution).
with spend as (
    select * from core.fct_spend
    where unattributed
),

final as (
    select
        provider,
        coalesce(principal_kind, 'billed_remainder') as principal_kind,
        coalesce(principal_id, scope_id) as principal_id,
        scope_kind,
        scope_id,
        any_value(scope_cost_centre) as scope_cost_centre,
        if(principal_kind is null, 'billed dollars no metered usage carries', 'no alias names an engineer') as reason,
        sum(spend_usd)::decimal(38, 12) as spend_usd,
        sum(list_cost_usd)::decimal(38, 12) as list_cost_usd,
        min(billing_date) as first_seen,
        max(billing_date) as last_seen,
        count(distinct billing_date) as days
    from spend
    group by all
)

select * from final
order by spend_usd desc nulls last, provider, principal_kind, principal_id, scope_id;

comment on table mart.unattributed is 'Spend that names no engineer, by principal and scope, largest first: add an alias (tokencomp reference load aliases) and rerun to attribute it.';
comment on column mart.unattributed.provider is 'Provider billing the spend.';
comment on column mart.unattributed.principal_kind is 'Kind of the unresolved identity (the alias kind to add), or billed_remainder.';
comment on column mart.unattributed.principal_id is 'The unresolved identity value (the alias value to add); the scope for billed remainders.';
comment on column mart.unattributed.scope_kind is 'workspace, project or account.';
comment on column mart.unattributed.scope_id is 'Provider scope id.';
comment on column mart.unattributed.scope_cost_centre is 'Cost centre the scope is charged to, where known.';
comment on column mart.unattributed.reason is 'Why no engineer is named.';
comment on column mart.unattributed.spend_usd is 'Unattributed spend, USD.';
comment on column mart.unattributed.list_cost_usd is 'List price of the unattributed tokens, USD.';
comment on column mart.unattributed.first_seen is 'First billing day with such spend.';
comment on column mart.unattributed.last_seen is 'Last billing day with such spend.';
comment on column mart.unattributed.days is 'Billing days with such spend.';
