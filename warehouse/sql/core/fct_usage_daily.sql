-- grain: day billing_date
create table core.fct_usage_daily as

with usage as not materialized (
    -- read where used: materializing every lake column once costs more than the two scans
    select * from src_usage
),

aliases as (
    select * from core.dim_alias
),

scopes as (
    select * from core.dim_scope
),

principal_days as (
    -- who a record belongs to depends on its principal and usage day alone: resolved once per pair,
    -- not once per record (a per-request source has many records per principal and day)
    select distinct principal_kind, principal_id, usage_date
    from usage
    where principal_kind is not null and principal_id is not null
),

resolved as (
    -- one engineer per (principal, day): the identity check guarantees a single engineer per (kind, value,
    -- day); grouping here keeps a duplicated alias row (same engineer twice) from counting a record twice
    select
        principal_days.principal_kind,
        principal_days.principal_id,
        principal_days.usage_date,
        min(aliases.engineer_id) as resolved_engineer_id
    from principal_days
    inner join aliases
        on aliases.kind = principal_days.principal_kind
        and aliases.value = if(
            list_contains($case_insensitive_kinds, principal_days.principal_kind),
            lower(principal_days.principal_id),
            principal_days.principal_id
        )
        and principal_days.usage_date >= aliases.valid_from
        and (aliases.valid_to is null or principal_days.usage_date < aliases.valid_to)
    group by all
),

attributed as (
    select
        usage.*,
        resolved.resolved_engineer_id
    from usage
    left join resolved
        on resolved.principal_kind = usage.principal_kind
        and resolved.principal_id = usage.principal_id
        and resolved.usage_date = usage.usage_date
),

scoped as (
    select
        attributed.*,
        scopes.cost_centre as scope_cost_centre
    from attributed
    left join scopes
        on scopes.provider = attributed.provider
        and scopes.scope_kind = attributed.scope_kind
        and scopes.scope_id = attributed.scope_id
        and attributed.billing_date >= scopes.valid_from
        and (scopes.valid_to is null or attributed.billing_date < scopes.valid_to)
),

final as (
    select
        billing_date,
        usage_date,
        source,
        spend_role,
        provider,
        publisher,
        model,
        model_raw,
        principal_kind,
        principal_id,
        scope_kind,
        scope_id,
        scope_cost_centre,
        coalesce(engineer_id, resolved_engineer_id) as engineer_id,
        pricing_flag,
        cost_basis,
        billing_model,
        charge_category,
        unit,
        count(*) as records,
        sum(uncached_input_tokens) as uncached_input_tokens,
        sum(cache_read_tokens) as cache_read_tokens,
        sum(cache_write_5m_tokens) as cache_write_5m_tokens,
        sum(cache_write_1h_tokens) as cache_write_1h_tokens,
        sum(output_tokens) as output_tokens,
        sum(reasoning_tokens) as reasoning_tokens,
        sum(requests) as requests,
        sum(quantity)::decimal(38, 12) as quantity,
        sum(list_cost_usd)::decimal(38, 12) as list_cost_usd,
        sum(billed_cost_usd)::decimal(38, 12) as billed_cost_usd,
        sum(allocated_cost_usd)::decimal(38, 12) as allocated_cost_usd
    from scoped
    group by all
)

select * from final
order by billing_date, source, provider, model, principal_kind, principal_id, scope_id;

comment on table core.fct_usage_daily is 'Every lake row of every source and role, per day and principal, attributed to an engineer through direct aliases. Not a spend table: sum spend from core.fct_spend.';
comment on column core.fct_usage_daily.billing_date is 'Provider UTC day the usage is billed on.';
comment on column core.fct_usage_daily.usage_date is 'Day in the reporting time zone, used for per-person reporting.';
comment on column core.fct_usage_daily.source is 'Source id the rows came from.';
comment on column core.fct_usage_daily.spend_role is 'billed (provider dollars), metered (tokens that make up spend) or observational (identity only, never summed into spend).';
comment on column core.fct_usage_daily.provider is 'Who bills the usage.';
comment on column core.fct_usage_daily.publisher is 'Who made the model.';
comment on column core.fct_usage_daily.model is 'Canonical model id.';
comment on column core.fct_usage_daily.model_raw is 'Model name as the source reported it.';
comment on column core.fct_usage_daily.principal_kind is 'Kind of provider-side identity that used the route (api_key_id, openai_user_id, email, ...).';
comment on column core.fct_usage_daily.principal_id is 'The provider-side identity value.';
comment on column core.fct_usage_daily.scope_kind is 'workspace, project or account.';
comment on column core.fct_usage_daily.scope_id is 'Provider scope id; default for the provider default.';
comment on column core.fct_usage_daily.scope_cost_centre is 'Cost centre of the scope, from the scopes reference.';
comment on column core.fct_usage_daily.engineer_id is 'Engineer the principal resolves to on that day; null when unattributed.';
comment on column core.fct_usage_daily.pricing_flag is 'unpriced (no list price: never $0), base_tier_assumed (an aggregate whose context window does not settle the long-context tier, priced at base) or null when priced normally.';
comment on column core.fct_usage_daily.cost_basis is 'billed (a provider bill line), allocated (metered tokens carrying billed dollars), list (metered tokens at list price: no billed source, or the day''s bill has not arrived) or null (observational).';
comment on column core.fct_usage_daily.billing_model is 'metered_tokens, seat, premium_request, credits or other (the canonical record''s billing model).';
comment on column core.fct_usage_daily.charge_category is 'usage, credit, tax, refund or purchase (the canonical record''s charge category).';
comment on column core.fct_usage_daily.unit is 'Unit of quantity (seat, request, credits, the provider''s own unit); null for token rows.';
comment on column core.fct_usage_daily.records is 'Number of lake records aggregated into the row.';
comment on column core.fct_usage_daily.uncached_input_tokens is 'Input tokens neither read from nor written to cache.';
comment on column core.fct_usage_daily.cache_read_tokens is 'Input tokens read from cache.';
comment on column core.fct_usage_daily.cache_write_5m_tokens is 'Input tokens written to a 5-minute cache.';
comment on column core.fct_usage_daily.cache_write_1h_tokens is 'Input tokens written to a 1-hour cache.';
comment on column core.fct_usage_daily.output_tokens is 'Output tokens, reasoning included.';
comment on column core.fct_usage_daily.reasoning_tokens is 'Reasoning tokens, a breakdown of output_tokens (never added to a total).';
comment on column core.fct_usage_daily.requests is 'Model requests, where the source reports them.';
comment on column core.fct_usage_daily.quantity is 'Quantity in unit, for seats, requests and credits (tokens are in the token columns).';
comment on column core.fct_usage_daily.list_cost_usd is 'List price of the tokens in USD at the prices in force on the day; null when unpriced.';
comment on column core.fct_usage_daily.billed_cost_usd is 'Provider-billed USD (billed sources only).';
comment on column core.fct_usage_daily.allocated_cost_usd is 'On metered rows: the billed dollars allocated to them. On billed rows: the part of the bill placed on metered rows (the rest is unallocated).';
