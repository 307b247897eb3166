-- grain: day billing_date
create table core.fct_billed_daily as

with billed as (
    select * from core.fct_usage_daily
    where spend_role = 'billed'
),

final as (
    select
        billing_date,
        provider,
        source,
        scope_kind,
        scope_id,
        scope_cost_centre,
        sum(billed_cost_usd)::decimal(38, 12) as billed_usd
    from billed
    group by all
)

select * from final
order by billing_date, provider, scope_id;

comment on table core.fct_billed_daily is 'What each provider billed, per UTC day and scope, exactly as its billed source says (the dollars spend must tie out to).';
comment on column core.fct_billed_daily.billing_date is 'Provider UTC day.';
comment on column core.fct_billed_daily.provider is 'Provider that billed.';
comment on column core.fct_billed_daily.source is 'Billed source (from config).';
comment on column core.fct_billed_daily.scope_kind is 'workspace, project or account.';
comment on column core.fct_billed_daily.scope_id is 'Provider scope id.';
comment on column core.fct_billed_daily.scope_cost_centre is 'Cost centre of the scope.';
comment on column core.fct_billed_daily.billed_usd is 'Billed USD, exact to 12 decimals.';
