-- Allocate billed dollars onto metered rows of the same provider, billing day and scope, at the finest
-- grain both share, in proportion to list cost, by the largest-remainder method at scale 12.
-- Inputs (replacement scans): usage_rows (canonical lake rows of a window, with a _row index).
-- Parameter: $billed_providers (providers whose billed source is configured).
-- Macros: money_units, money_of_units, largest_remainder (money_macros.sql).
-- Output: _row, allocated_cost_usd: for a metered row the billed dollars placed on it, for a billed row
-- the part of it placed on metered rows (the rest is the unallocated remainder).
--
-- Grain. A billed line naming a model and a token kind (Anthropic's cost report) is shared over the
-- metered rows' tokens of that kind for that model, and of the same context window and service tier
-- where both sides name one: within such a group list cost is proportional to tokens, so tokens are
-- the exact integer weights. A billed line without model or token kind (OpenAI's project line items,
-- web search, code execution) is shared over every metered row of its scope by list cost.
with billed as (
    select
        _row as billed_row,
        provider,
        billing_date,
        scope_kind,
        scope_id,
        model,
        token_kind,
        context_window,
        service_tier,
        money_units(billed_cost_usd) as billed_units
    from usage_rows
    where spend_role = 'billed' and billed_cost_usd is not null and billed_cost_usd <> 0
),

metered as (
    -- seats are priced from seat_prices, never carry token bills
    select * from usage_rows
    where spend_role = 'metered' and list_contains($billed_providers, provider)
        and billing_model is distinct from 'seat'
),

kind_components as (
    -- one component per metered row and token kind, weighted by its tokens
    select _row as metered_row, provider, billing_date, scope_kind, scope_id, model, context_window,
        service_tier, 'uncached_input' as token_kind, uncached_input_tokens::hugeint as weight from metered
    union all
    select _row, provider, billing_date, scope_kind, scope_id, model, context_window, service_tier,
        'cache_read', cache_read_tokens::hugeint from metered
    union all
    select _row, provider, billing_date, scope_kind, scope_id, model, context_window, service_tier,
        'cache_write_5m', cache_write_5m_tokens::hugeint from metered
    union all
    select _row, provider, billing_date, scope_kind, scope_id, model, context_window, service_tier,
        'cache_write_1h', cache_write_1h_tokens::hugeint from metered
    union all
    select _row, provider, billing_date, scope_kind, scope_id, model, context_window, service_tier,
        'output', output_tokens::hugeint from metered
),

by_kind as (
    select billed.billed_row, billed.billed_units, c.metered_row, c.weight
    from billed
    inner join kind_components as c
        on c.provider = billed.provider
        and c.billing_date = billed.billing_date
        and c.scope_kind = billed.scope_kind
        and c.scope_id = billed.scope_id
        and c.model = billed.model
        and c.token_kind = billed.token_kind
        and (billed.context_window is null or c.context_window is null or c.context_window = billed.context_window)
        and (billed.service_tier is null or c.service_tier is null or c.service_tier = billed.service_tier)
    where billed.model is not null and billed.token_kind is not null and c.weight > 0
),

by_scope_raw as (
    select
        billed.billed_row,
        billed.billed_units,
        m._row as metered_row,
        coalesce(money_units(m.list_cost_usd), 0) as list_weight,
        (m.uncached_input_tokens + m.cache_read_tokens + m.cache_write_5m_tokens + m.cache_write_1h_tokens
            + m.output_tokens)::hugeint as token_weight
    from billed
    inner join metered as m
        on m.provider = billed.provider
        and m.billing_date = billed.billing_date
        and m.scope_kind = billed.scope_kind
        and m.scope_id = billed.scope_id
    where billed.model is null or billed.token_kind is null
),

by_scope as (
    -- list cost is the weight; where a scope's rows have no list price at all (unpriced models), tokens
    select
        billed_row,
        billed_units,
        metered_row,
        if(sum(list_weight) over (partition by billed_row) > 0, list_weight, token_weight) as weight
    from by_scope_raw
),

components as (
    select * from by_kind
    union all
    select * from by_scope where weight > 0
),

parts as (
    -- a metered row takes one component of a billed row (one token kind, or the whole row), so it is the item
    select billed_row as grp, metered_row as item, billed_units as units, weight from components
),

allocated as (
    -- largest remainder at scale 12, overflow-safe for every bill and weight (money_macros.sql)
    select grp as billed_row, item as metered_row, units as amount_units from largest_remainder(parts)
),

per_row as (
    select metered_row as _row, sum(amount_units) as units from allocated group by metered_row
    union all
    select billed_row as _row, sum(amount_units) as units from allocated group by billed_row
),

final as (
    select
        _row,
        money_of_units(units) as allocated_cost_usd
    from per_row
)

select * from final
