-- Chargeback for one month (`$month`, its first day): spend per cost centre, provider and model family. A named
-- engineer's spend goes to the cost centre they were in on the day of use (core.dim_engineer); spend no engineer
-- carries goes to its scope's cost centre (core.dim_scope), else '(unassigned)'. Months follow usage_date, as
-- mart.engineer_monthly does, so the rows sum to core.fct_spend for the month exactly.
with spend as (
    select * from core.fct_spend
    where date_trunc('month', usage_date)::date = $month
),

engineers as (
    select * from core.dim_engineer
),

families as (
    select model, model_family(model) as model_family
    from (select distinct model from spend)
),

charged as (
    select
        coalesce(engineers.cost_centre, spend.scope_cost_centre, '(unassigned)') as cost_centre,
        spend.provider,
        coalesce(families.model_family, 'other') as model_family,
        spend.engineer_id,
        spend.spend_usd,
        spend.list_cost_usd,
        spend.uncached_input_tokens + spend.cache_read_tokens + spend.cache_write_5m_tokens
            + spend.cache_write_1h_tokens as input_tokens,
        spend.output_tokens,
        spend.unpriced_records
    from spend
    left join engineers
        on engineers.engineer_id = spend.engineer_id
        and spend.usage_date >= engineers.valid_from
        and (engineers.valid_to is null or spend.usage_date < engineers.valid_to)
    left join families on families.model is not distinct from spend.model
),

grouped as (
    select
        cost_centre,
        provider,
        model_family,
        count(distinct engineer_id) as engineers,
        sum(spend_usd)::decimal(38, 12) as spend_usd,
        coalesce(sum(spend_usd) filter (where engineer_id is null), 0)::decimal(38, 12) as unattributed_usd,
        sum(list_cost_usd)::decimal(38, 12) as list_cost_usd,
        sum(input_tokens)::bigint as input_tokens,
        sum(output_tokens)::bigint as output_tokens,
        sum(unpriced_records)::bigint as unpriced_records
    from charged
    group by all
),

final as (
    select
        row_number() over (order by cost_centre, provider, model_family) as row_no,
        $month::date as month,
        $status as status,
        *
    from grouped
)

select * from final
order by row_no
