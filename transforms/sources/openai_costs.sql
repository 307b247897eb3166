-- openai_costs mapping: one result `r` of an API page (table `results`, see the pages reader) to one
-- canonical record. OpenAI Costs API (`GET /v1/organization/costs`).
create or replace temp macro source_records(results, source, provider, publisher) as table
with validated as (
    select
        delivery, ordinal, period_start, period_end, r, x,
        -- numbers are read from `x`, the result's twin holding each number as its exact text (pages reader)
        first_problem([
            money_check(x, 'amount.value', false),
            string_check(r, 'amount.currency', false),
            decimal_check(x, 'quantity', true)
        ]) as problem,
        decimal_value(x, '$.amount.value') as dollars,
        upper(r ->> '$.amount.currency') as currency
    from query_table(results)
)
select
    delivery, ordinal, period_start, period_end, problem,
    case when r ->> '$.api_key_id' is not null then 'api_key_id' end as principal_kind,
    r ->> '$.api_key_id' as principal_id,
    'project' as scope_kind,
    coalesce(r ->> '$.project_id', 'default') as scope_id,
    decimal_value(x, '$.quantity') as quantity,
    r ->> '$.quantity_unit' as unit,
    case
        when r ->> '$.quantity_unit' in ('tokens', '1000_tokens') then 'metered_tokens'
        else 'other'
    end as billing_model,
    'usage' as charge_category,
    r ->> '$.line_item' as line_item,
    currency,
    dollars as amount_original,
    case when currency = 'USD' then 1::decimal(38, 12) end as fx_rate,
    case when currency = 'USD' then dollars end as billed_cost_usd,
    r ->> '$.project_id' as key_project_id,
    r ->> '$.api_key_id' as key_api_key_id
from validated;
