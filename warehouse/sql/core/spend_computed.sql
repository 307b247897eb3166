create temp table spend_computed as

-- The one place spend is summed. Three kinds of rows:
--   alias          metered rows whose principal resolves to one engineer;
--   observational  a share of an unresolved (shared) route, claimed by an engineer whom an observational
--                  source (Claude Code logs, gateway logs) names on the same provider, day and model;
--   unattributed   what no one claims of an unresolved route, and billed dollars no metered row carries.
-- An engineer's claim is the list cost the observational source saw for them beyond what their own
-- resolved routes already explain. Each unresolved route is shared between the claimants and
-- "unattributed" in proportion to claims (capped at the pool), by the largest-remainder method on
-- integer units, so the split never changes the total.
with usage as (
    select * from core.fct_usage_daily
),

metered as (
    select
        *,
        row_number() over (
            order by billing_date, usage_date, source, provider, model, model_raw, principal_kind, principal_id,
                scope_kind, scope_id, cost_basis, pricing_flag
        ) as route_row,
        if(cost_basis = 'allocated', allocated_cost_usd, list_cost_usd) as spend_usd
    from usage
    where spend_role = 'metered'
),

direct as (
    select * from metered where engineer_id is not null
),

unresolved as (
    select * from metered where engineer_id is null
),

observed as (
    select provider, billing_date, model, engineer_id, sum(list_cost_usd) as observed_list_usd
    from usage
    where spend_role = 'observational' and engineer_id is not null and list_cost_usd is not null
    group by all
),

explained as (
    select provider, billing_date, model, engineer_id, sum(list_cost_usd) as direct_list_usd
    from direct
    group by all
),

claims as (
    select
        observed.provider,
        observed.billing_date,
        observed.model,
        observed.engineer_id,
        cast((observed.observed_list_usd - coalesce(explained.direct_list_usd, 0)) * 1000000000000 as hugeint)
            as claim_units
    from observed
    left join explained using (provider, billing_date, model, engineer_id)
),

pools as (
    select
        provider,
        billing_date,
        model,
        coalesce(cast(sum(list_cost_usd) * 1000000000000 as hugeint), 0) as pool_units
    from unresolved
    group by all
),

participants as (
    select provider, billing_date, model, engineer_id, claim_units as weight
    from claims
    inner join pools using (provider, billing_date, model)
    where claim_units > 0 and pool_units > 0
    union all
    -- the unclaimed part of the pool stays unattributed (weight 1 when the pool has no list price)
    select
        pools.provider,
        pools.billing_date,
        pools.model,
        null as engineer_id,
        if(pools.pool_units > 0, greatest(pools.pool_units - coalesce(sum(claims.claim_units), 0), 0), 1) as weight
    from pools
    left join claims
        on claims.provider = pools.provider
        and claims.billing_date = pools.billing_date
        and claims.model is not distinct from pools.model
        and claims.claim_units > 0
    group by pools.provider, pools.billing_date, pools.model, pools.pool_units
),

measures as (
    -- every quantity of an unresolved route as integer units, split separately and exactly
    unpivot (
        select
            route_row,
            provider,
            billing_date,
            model,
            coalesce(cast(spend_usd * 1000000000000 as hugeint), 0) as spend,
            coalesce(cast(list_cost_usd * 1000000000000 as hugeint), 0) as list,
            coalesce(uncached_input_tokens, 0)::hugeint as uncached_input,
            coalesce(cache_read_tokens, 0)::hugeint as cache_read,
            coalesce(cache_write_5m_tokens, 0)::hugeint as cache_write_5m,
            coalesce(cache_write_1h_tokens, 0)::hugeint as cache_write_1h,
            coalesce(output_tokens, 0)::hugeint as output
        from unresolved
    )
    on spend, list, uncached_input, cache_read, cache_write_5m, cache_write_1h, output
    into name measure value units
),

shares as (
    select
        measures.route_row,
        measures.measure,
        measures.units,
        participants.engineer_id,
        participants.weight,
        sum(participants.weight) over (partition by measures.route_row, measures.measure) as total_weight
    from measures
    inner join participants
        on participants.provider = measures.provider
        and participants.billing_date = measures.billing_date
        and participants.model is not distinct from measures.model
    where participants.weight > 0
),

floored as (
    select
        *,
        abs(units) * weight // total_weight as floor_units,
        abs(units) * weight % total_weight as remainder
    from shares
),

ranked as (
    select
        *,
        abs(units) - sum(floor_units) over (partition by route_row, measure) as leftover,
        row_number() over (
            partition by route_row, measure order by remainder desc, engineer_id nulls last
        ) as remainder_rank
    from floored
),

split as (
    select
        route_row,
        engineer_id,
        measure,
        sign(units) * (floor_units + if(remainder_rank <= leftover, 1, 0)) as units
    from ranked
),

split_rows as (
    pivot split on measure in ('spend', 'list', 'uncached_input', 'cache_read', 'cache_write_5m', 'cache_write_1h',
        'output') using sum(units) group by route_row, engineer_id
),

unresolved_parts as (
    select
        unresolved.billing_date,
        unresolved.usage_date,
        unresolved.provider,
        unresolved.source,
        unresolved.scope_kind,
        unresolved.scope_id,
        unresolved.scope_cost_centre,
        unresolved.model,
        unresolved.principal_kind,
        unresolved.principal_id,
        split_rows.engineer_id,
        if(split_rows.engineer_id is null, 'unattributed', 'observational') as attribution,
        unresolved.cost_basis,
        if(unresolved.spend_usd is null, null,
            (split_rows.spend::decimal(38, 0) * 0.000000000001::decimal(13, 12))::decimal(38, 12)) as spend_usd,
        if(unresolved.list_cost_usd is null, null,
            (split_rows.list::decimal(38, 0) * 0.000000000001::decimal(13, 12))::decimal(38, 12)) as list_cost_usd,
        split_rows.uncached_input::bigint as uncached_input_tokens,
        split_rows.cache_read::bigint as cache_read_tokens,
        split_rows.cache_write_5m::bigint as cache_write_5m_tokens,
        split_rows.cache_write_1h::bigint as cache_write_1h_tokens,
        split_rows.output::bigint as output_tokens,
        if(unresolved.pricing_flag = 'unpriced', unresolved.records, 0) as unpriced_records
    from unresolved
    inner join split_rows using (route_row)
),

direct_rows as (
    -- the columns `final` does not keep are dropped there
    select
        *,
        'alias' as attribution,
        if(pricing_flag = 'unpriced', records, 0) as unpriced_records
    from direct
),

billed_remainder as (
    -- billed dollars that no metered row of the scope and day could carry (no principal, no tokens:
    -- `union all by name` below leaves those columns null)
    select
        billing_date,
        usage_date,
        provider,
        source,
        scope_kind,
        scope_id,
        scope_cost_centre,
        model,
        'unattributed' as attribution,
        'billed' as cost_basis,
        (billed_cost_usd - allocated_cost_usd)::decimal(38, 12) as spend_usd,
        0 as unpriced_records
    from usage
    where spend_role = 'billed' and billed_cost_usd - allocated_cost_usd <> 0
),

combined as (
    select * from direct_rows
    union all by name
    select * from unresolved_parts
    union all by name
    select * from billed_remainder
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
        attribution,
        engineer_id is null as unattributed,
        cost_basis,
        spend_usd::decimal(38, 12) as spend_usd,
        list_cost_usd::decimal(38, 12) as list_cost_usd,
        uncached_input_tokens,
        cache_read_tokens,
        cache_write_5m_tokens,
        cache_write_1h_tokens,
        output_tokens,
        unpriced_records::bigint as unpriced_records
    from combined
)

select * from final
order by billing_date, provider, scope_id, model, principal_kind, principal_id, engineer_id, attribution;

