-- anthropic_cost mapping: one result `r` of an API page (table `results`, see the pages reader) to one
-- canonical record. Anthropic Admin API cost report (`GET /v1/organizations/cost_report`).
create or replace temp macro source_records(results, source, provider, publisher) as table
with validated as (
    select
        delivery, ordinal, period_start, period_end, r,
        -- money is read from `x`, the result's twin holding each number as its exact text (pages reader)
        first_problem([
            money_check(x, 'amount', false),
            string_check(r, 'currency', false)
        ]) as problem,
        -- cents -> dollars, rounded once at 12 places. DECIMAL division would go through DOUBLE,
        -- so multiply by 0.01; reading the cents at scale 16 keeps the product exact before rounding.
        cast(try_cast(x ->> '$.amount' as decimal(38, 16)) * 0.01::decimal(3, 2) as decimal(38, 12))
            as dollars,
        upper(r ->> '$.currency') as currency
    from query_table(results)
)
select
    delivery, ordinal, period_start, period_end, problem,
    case when r ->> '$.model' is not null then publisher end as publisher,
    r ->> '$.model' as model,
    r ->> '$.model' as model_raw,
    r ->> '$.context_window' as context_window,
    r ->> '$.service_tier' as service_tier,
    r ->> '$.inference_geo' as inference_geo,
    'workspace' as scope_kind,
    coalesce(r ->> '$.workspace_id', 'default') as scope_id,
    case when r ->> '$.cost_type' = 'tokens' then 'metered_tokens' else 'other' end as billing_model,
    'usage' as charge_category,
    r ->> '$.description' as line_item,
    case r ->> '$.token_type'
        when 'uncached_input_tokens' then 'uncached_input'
        when 'cache_read_input_tokens' then 'cache_read'
        when 'cache_creation.ephemeral_5m_input_tokens' then 'cache_write_5m'
        when 'cache_creation.ephemeral_1h_input_tokens' then 'cache_write_1h'
        when 'output_tokens' then 'output'
    end as token_kind,
    currency,
    dollars as amount_original,
    case when currency = 'USD' then 1::decimal(38, 12) end as fx_rate,
    case when currency = 'USD' then dollars end as billed_cost_usd,
    r ->> '$.workspace_id' as key_workspace_id,
    r ->> '$.cost_type' as key_cost_type,
    r ->> '$.token_type' as key_token_type
from validated;
