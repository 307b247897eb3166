-- grain: day billing_date
create table mart.reconciliation as

-- Per provider, scope and billing day: what the provider billed, what the metered tokens cost at list
-- price, how much of the bill was allocated onto usage and how much no usage could carry.
with usage as (
    select * from core.fct_usage_daily
),

billed as (
    select
        provider,
        scope_kind,
        scope_id,
        billing_date,
        sum(billed_cost_usd) as billed_usd,
        sum(billed_cost_usd - allocated_cost_usd) as unallocated_usd
    from usage
    where spend_role = 'billed'
    group by all
),

metered as (
    select
        provider,
        scope_kind,
        scope_id,
        billing_date,
        sum(list_cost_usd) as list_usd,
        sum(allocated_cost_usd) filter (where cost_basis = 'allocated') as allocated_usd
    from usage
    where spend_role = 'metered'
    group by all
),

joined as (
    select
        provider,
        scope_kind,
        scope_id,
        billing_date,
        coalesce(billed.billed_usd, 0)::decimal(38, 12) as billed_usd,
        coalesce(metered.list_usd, 0)::decimal(38, 12) as list_usd,
        coalesce(metered.allocated_usd, 0)::decimal(38, 12) as allocated_usd,
        coalesce(billed.unallocated_usd, 0)::decimal(38, 12) as unallocated_usd
    from billed
    full outer join metered using (provider, scope_kind, scope_id, billing_date)
),

final as (
    select
        *,
        (billed_usd - list_usd)::decimal(38, 12) as diff_usd,
        if(list_usd = 0, null, round((billed_usd - list_usd) / list_usd, 6)::decimal(18, 6)) as diff_pct
    from joined
)

select * from final
order by provider, scope_kind, scope_id, billing_date;

comment on table mart.reconciliation is 'Invoice tie-out per provider, scope and UTC billing day: billed = allocated + unallocated, exactly (a blocking check), and how far the bill is from list price.';
comment on column mart.reconciliation.provider is 'Provider that billed.';
comment on column mart.reconciliation.scope_kind is 'workspace, project or account.';
comment on column mart.reconciliation.scope_id is 'Provider scope id.';
comment on column mart.reconciliation.billing_date is 'Provider UTC day.';
comment on column mart.reconciliation.billed_usd is 'What the provider''s billed source says, USD.';
comment on column mart.reconciliation.list_usd is 'List price of the metered tokens of the same scope and day, USD.';
comment on column mart.reconciliation.allocated_usd is 'Billed dollars allocated onto metered usage, USD.';
comment on column mart.reconciliation.unallocated_usd is 'Unallocated: billed dollars no metered row of the scope and day could carry, USD (they are unattributed spend in core.fct_spend and mart.unattributed).';
comment on column mart.reconciliation.diff_usd is 'billed_usd - list_usd: discounts (negative) or charges list price does not explain (positive).';
comment on column mart.reconciliation.diff_pct is 'diff_usd as a share of list_usd; null when there is no list cost.';
