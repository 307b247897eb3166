-- grain: day billing_date where charge_class is null
create table core.fct_spend as

-- Spend as the books show it. Open months are computed from the lake (core/spend_computed). A closed
-- month keeps the rows frozen when it was closed; whatever the lake now says differently about it is
-- posted into the current open month as charge_class = 'correction' (net of corrections already posted
-- into months closed since), so totals over time still equal what was billed.
with computed as not materialized (
    -- scanned where used: a copy of the whole temp table costs more than a second scan
    select * from spend_computed
),

frozen as (
    select * from src_closed_spend
),

closed_months as (
    select unnest($closed_months::date[]) as month
),

open_computed as (
    select computed.*, null::varchar as charge_class, null::date as correction_of_month
    from computed
    where date_trunc('month', billing_date)::date not in (select month from closed_months)
),

recomputed_closed as (
    select computed.*, date_trunc('month', billing_date)::date as correction_of_month
    from computed
    where date_trunc('month', billing_date)::date in (select month from closed_months)
),

deltas as (
    -- what the lake says now about a closed month, minus its frozen rows, minus corrections already booked
    select
        provider, source, scope_kind, scope_id, scope_cost_centre, model, principal_kind, principal_id,
        engineer_id, attribution, cost_basis, billing_model, charge_category, unit, correction_of_month,
        quantity, spend_usd, list_cost_usd, uncached_input_tokens, cache_read_tokens, cache_write_5m_tokens,
        cache_write_1h_tokens, output_tokens, unpriced_records
    from recomputed_closed
    union all
    select
        provider, source, scope_kind, scope_id, scope_cost_centre, model, principal_kind, principal_id,
        engineer_id, attribution, cost_basis, billing_model, charge_category, unit,
        coalesce(correction_of_month, date_trunc('month', billing_date)::date),
        -quantity, -spend_usd, -list_cost_usd, -uncached_input_tokens, -cache_read_tokens, -cache_write_5m_tokens,
        -cache_write_1h_tokens, -output_tokens, -unpriced_records
    from frozen
    where coalesce(correction_of_month, date_trunc('month', billing_date)::date) in (select month from closed_months)
),

corrections as (
    select
        $open_month::date as billing_date,
        $open_month::date as usage_date,
        provider, source, scope_kind, scope_id, scope_cost_centre, model, principal_kind, principal_id,
        engineer_id, attribution, engineer_id is null as unattributed, cost_basis, billing_model, charge_category,
        sum(quantity)::decimal(38, 12) as quantity,
        unit,
        sum(spend_usd)::decimal(38, 12) as spend_usd,
        sum(list_cost_usd)::decimal(38, 12) as list_cost_usd,
        sum(uncached_input_tokens)::bigint as uncached_input_tokens,
        sum(cache_read_tokens)::bigint as cache_read_tokens,
        sum(cache_write_5m_tokens)::bigint as cache_write_5m_tokens,
        sum(cache_write_1h_tokens)::bigint as cache_write_1h_tokens,
        sum(output_tokens)::bigint as output_tokens,
        sum(unpriced_records)::bigint as unpriced_records,
        'correction' as charge_class,
        correction_of_month
    from deltas
    group by all
    having sum(spend_usd) <> 0 or sum(list_cost_usd) <> 0 or sum(uncached_input_tokens) <> 0
        or sum(cache_read_tokens) <> 0 or sum(cache_write_5m_tokens) <> 0 or sum(cache_write_1h_tokens) <> 0
        or sum(output_tokens) <> 0 or sum(quantity) <> 0
),

final as (
    select * from open_computed
    union all by name
    select * from frozen
    union all by name
    select * from corrections
)

select * from final
order by billing_date, provider, scope_id, model, principal_kind, principal_id, engineer_id, attribution, charge_class;

comment on table core.fct_spend is 'The one place spend is summed. Metered usage at the billed dollars allocated to it (list price where a provider has no billed source or the day''s bill has not arrived), attributed to engineers by alias or, for a declared shared route, split among its members by the list cost the observational sources (Claude Code logs, gateway logs) saw for each of them; plus billed dollars no usage carries (unallocated, hence unattributed). Per provider, scope and day the rows sum to the bill.';
comment on column core.fct_spend.billing_date is 'Provider UTC day.';
comment on column core.fct_spend.usage_date is 'Day in the reporting time zone.';
comment on column core.fct_spend.provider is 'Who bills the spend.';
comment on column core.fct_spend.source is 'Metered source the tokens came from (the billed source for billed remainders).';
comment on column core.fct_spend.scope_kind is 'workspace, project or account.';
comment on column core.fct_spend.scope_id is 'Provider scope id.';
comment on column core.fct_spend.scope_cost_centre is 'Cost centre of the scope, for chargeback where no person is named.';
comment on column core.fct_spend.model is 'Canonical model id.';
comment on column core.fct_spend.principal_kind is 'Kind of provider-side identity that used the route; null for billed remainders.';
comment on column core.fct_spend.principal_id is 'Provider-side identity value.';
comment on column core.fct_spend.engineer_id is 'Engineer charged; null when unattributed.';
comment on column core.fct_spend.attribution is 'alias (the principal resolves to the engineer), shared_route (the engineer''s share of a declared shared route, in proportion to their observational list cost that provider, billing day and model) or unattributed (an unknown route, a shared route no member logged usage on that day and model, or unallocated billed dollars).';
comment on column core.fct_spend.unattributed is 'True when no engineer could be named for the spend.';
comment on column core.fct_spend.cost_basis is 'allocated (billed dollars allocated to metered tokens), list (list price: no bill for the provider or day) or billed (a bill line no usage carries).';
comment on column core.fct_spend.billing_model is 'metered_tokens, seat, premium_request, credits or other, from the canonical record (null for a bill line no usage carries when the bill does not say).';
comment on column core.fct_spend.charge_category is 'usage, credit, tax, refund or purchase, from the canonical record.';
comment on column core.fct_spend.quantity is 'Quantity in unit for seats, requests and credits (tokens are in the token columns); null for billed remainders.';
comment on column core.fct_spend.unit is 'Unit of quantity (seat, request, credits, ...); null for token rows.';
comment on column core.fct_spend.spend_usd is 'Spend in USD, exact to 12 decimals; null where the model is unpriced and no bill covers it.';
comment on column core.fct_spend.list_cost_usd is 'List price of the same tokens, for comparison with the bill.';
comment on column core.fct_spend.uncached_input_tokens is 'Input tokens neither read from nor written to cache.';
comment on column core.fct_spend.cache_read_tokens is 'Input tokens read from cache.';
comment on column core.fct_spend.cache_write_5m_tokens is 'Input tokens written to a 5-minute cache.';
comment on column core.fct_spend.cache_write_1h_tokens is 'Input tokens written to a 1-hour cache.';
comment on column core.fct_spend.output_tokens is 'Output tokens, reasoning included.';
comment on column core.fct_spend.unpriced_records is 'Records without a list price (spend unknown, not zero).';
comment on column core.fct_spend.charge_class is 'null, or correction: late data or a change for a closed month, posted into the open month.';
comment on column core.fct_spend.correction_of_month is 'For a correction, the closed month it corrects (first day).';
