create table core.fct_spend as

with usage as (
    select * from core.fct_usage_daily
    where spend_role = 'metered'
),

final as (
    select
        billing_date,
        usage_date,
        provider,
        source,
        scope_kind,
        scope_id,
        scope_cost_centre,
        model,
        principal_kind,
        principal_id,
        engineer_id,
        engineer_id is null as unattributed,
        'list' as cost_basis,
        sum(list_cost_usd)::decimal(38, 12) as spend_usd,
        sum(uncached_input_tokens) as uncached_input_tokens,
        sum(cache_read_tokens) as cache_read_tokens,
        sum(cache_write_5m_tokens) as cache_write_5m_tokens,
        sum(cache_write_1h_tokens) as cache_write_1h_tokens,
        sum(output_tokens) as output_tokens,
        sum(records) filter (where pricing_flag = 'unpriced') as unpriced_records
    from usage
    group by all
)

select * from final
order by billing_date, provider, scope_id, model, principal_kind, principal_id;

comment on table core.fct_spend is 'The one place spend is summed: metered rows per day, scope, model and principal. In this version spend is the list cost of metered tokens (cost_basis = list); allocation of billed dollars replaces it with the cost engine.';
comment on column core.fct_spend.billing_date is 'Provider UTC day.';
comment on column core.fct_spend.usage_date is 'Day in the reporting time zone.';
comment on column core.fct_spend.provider is 'Who bills the spend.';
comment on column core.fct_spend.source is 'Metered source the tokens came from.';
comment on column core.fct_spend.scope_kind is 'workspace, project or account.';
comment on column core.fct_spend.scope_id is 'Provider scope id.';
comment on column core.fct_spend.scope_cost_centre is 'Cost centre of the scope.';
comment on column core.fct_spend.model is 'Canonical model id.';
comment on column core.fct_spend.principal_kind is 'Kind of provider-side identity.';
comment on column core.fct_spend.principal_id is 'Provider-side identity value.';
comment on column core.fct_spend.engineer_id is 'Engineer charged; null when the principal resolves to no one.';
comment on column core.fct_spend.unattributed is 'True when no engineer could be named for the spend.';
comment on column core.fct_spend.cost_basis is 'How spend_usd was obtained: list (list price of metered tokens), allocated or billed.';
comment on column core.fct_spend.spend_usd is 'Spend in USD, exact to 12 decimals; null where the model is unpriced.';
comment on column core.fct_spend.uncached_input_tokens is 'Input tokens neither read from nor written to cache.';
comment on column core.fct_spend.cache_read_tokens is 'Input tokens read from cache.';
comment on column core.fct_spend.cache_write_5m_tokens is 'Input tokens written to a 5-minute cache.';
comment on column core.fct_spend.cache_write_1h_tokens is 'Input tokens written to a 1-hour cache.';
comment on column core.fct_spend.output_tokens is 'Output tokens, reasoning included.';
comment on column core.fct_spend.unpriced_records is 'Records without a list price (spend unknown, not zero).';
