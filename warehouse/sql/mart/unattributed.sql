-- grain: month month
create table mart.unattributed as

-- Spend that reaches no engineer, per month, and why, so an admin can fix it: an unknown route (add an alias
-- or route members, rerun), a shared route none of whose members logged usage that day and model, or billed
-- dollars no metered usage carries (unallocated: usually usage the metered source does not report).
with spend as (
    select * from core.fct_spend
    where unattributed
),

route_members as (
    select * from core.dim_route_member
),

declared as (
    -- unattributed rows whose principal is a declared shared route on the row's day
    select distinct spend.provider, spend.principal_kind, spend.principal_id, spend.usage_date
    from spend
    inner join route_members
        on route_members.provider = spend.provider
        and route_members.principal_kind = spend.principal_kind
        and route_members.principal_id = if(
            list_contains($case_insensitive_kinds, spend.principal_kind), lower(spend.principal_id), spend.principal_id
        )
        and spend.usage_date >= route_members.valid_from
        and (route_members.valid_to is null or spend.usage_date < route_members.valid_to)
),

reasoned as (
    select
        spend.*,
        case
            when spend.principal_kind is null then 'unallocated'
            when declared.provider is not null then 'shared_route_unclaimed'
            else 'unknown_route'
        end as reason
    from spend
    left join declared
        on declared.provider = spend.provider
        and declared.principal_kind = spend.principal_kind
        and declared.principal_id = spend.principal_id
        and declared.usage_date = spend.usage_date
),

final as (
    select
        date_trunc('month', usage_date)::date as month,
        provider,
        coalesce(principal_kind, 'billed_remainder') as principal_kind,
        coalesce(principal_id, scope_id) as principal_id,
        scope_kind,
        scope_id,
        any_value(scope_cost_centre) as scope_cost_centre,
        reason,
        sum(spend_usd)::decimal(38, 12) as spend_usd,
        sum(list_cost_usd)::decimal(38, 12) as list_cost_usd,
        min(billing_date) as first_seen,
        max(billing_date) as last_seen,
        count(distinct billing_date) as days
    from reasoned
    group by all
)

select * from final
order by month, spend_usd desc nulls last, provider, principal_kind, principal_id, scope_id, reason;

comment on table mart.unattributed is 'Spend that reaches no engineer, per month, principal, scope and reason, largest first. Together with mart.engineer_monthly it sums to core.fct_spend per provider and month (a blocking check). Fix an unknown route with tokencomp reference load aliases (one owner) or route_members (a shared route) and rerun.';
comment on column mart.unattributed.month is 'First day of the month of the spend (reporting time zone, as mart.engineer_monthly).';
comment on column mart.unattributed.provider is 'Provider billing the spend.';
comment on column mart.unattributed.principal_kind is 'Kind of the unresolved identity (the alias kind to add), or billed_remainder.';
comment on column mart.unattributed.principal_id is 'The unresolved identity value (the alias value to add); the scope for billed remainders.';
comment on column mart.unattributed.scope_kind is 'workspace, project or account.';
comment on column mart.unattributed.scope_id is 'Provider scope id.';
comment on column mart.unattributed.scope_cost_centre is 'Cost centre the scope is charged to, where known.';
comment on column mart.unattributed.reason is 'unknown_route (no alias and no route members: all of it, claimed by no one), shared_route_unclaimed (a declared shared route none of whose members logged usage that day and model) or unallocated (billed dollars no metered row carries).';
comment on column mart.unattributed.spend_usd is 'Unattributed spend, USD.';
comment on column mart.unattributed.list_cost_usd is 'List price of the unattributed tokens, USD.';
comment on column mart.unattributed.first_seen is 'First billing day with such spend in the month.';
comment on column mart.unattributed.last_seen is 'Last billing day with such spend in the month.';
comment on column mart.unattributed.days is 'Billing days with such spend in the month.';
