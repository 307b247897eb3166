-- grain: day billing_date
create temp table spend_computed as

-- The one place spend is summed. Three kinds of rows:
--   alias         metered rows whose principal resolves to one engineer (core.dim_alias);
--   shared_route  a member's share of a declared shared route (core.dim_route_member): the route's metered
--                 rows are split among that route's members only, in proportion to each member's
--                 observational list cost (Claude Code logs, gateway logs) on the same provider, billing day
--                 and model. Claims never pool across routes and are never reduced by what a member's own
--                 routes explain;
--   unattributed  a shared route none of whose members logged usage that day and model, an unknown route (no
--                 alias, no members: all of it, claimed by no one), and billed dollars no metered row carries.
-- The split is exact: largest remainder on integer units of 1e-12 (the `largest_remainder` macro of
-- transforms/sql/money_macros.sql, overflow-safe for any pool), so it never changes a total.
with usage as (
    select * from core.fct_usage_daily
),

route_members as (
    select * from core.dim_route_member
),

metered as (
    select
        *,
        row_number() over (
            order by billing_date, usage_date, source, provider, model, model_raw, principal_kind, principal_id,
                scope_kind, scope_id, cost_basis, pricing_flag, billing_model, charge_category, unit
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

observed_by_source as (
    select provider, billing_date, model, engineer_id, source, sum(list_cost_usd) as observed_list_usd
    from usage
    where spend_role = 'observational' and engineer_id is not null and list_cost_usd is not null
    group by all
),

observed as (
    -- observational sources are views of the same usage (Claude Code logs and the Claude Code analytics
    -- report both see one engineer's sessions): a member's claim is the largest of their per-source
    -- views, never their sum, so appearing in two sources does not double a member's weight
    select provider, billing_date, model, engineer_id, max(observed_list_usd) as observed_list_usd
    from observed_by_source
    group by all
),

members as (
    -- the members of each unresolved row's route on its day (membership is dated like aliases, by usage_date)
    select distinct unresolved.route_row, route_members.engineer_id
    from unresolved
    inner join route_members
        on route_members.provider = unresolved.provider
        and route_members.principal_kind = unresolved.principal_kind
        and route_members.principal_id = if(
            list_contains($case_insensitive_kinds, unresolved.principal_kind),
            lower(unresolved.principal_id),
            unresolved.principal_id
        )
        and unresolved.usage_date >= route_members.valid_from
        and (route_members.valid_to is null or unresolved.usage_date < route_members.valid_to)
),

participants as (
    -- each member weighs their own observational list cost of the row's provider, billing day and model
    select
        members.route_row,
        members.engineer_id,
        money_units(observed.observed_list_usd) as weight
    from members
    inner join unresolved using (route_row)
    inner join observed
        on observed.provider = unresolved.provider
        and observed.billing_date = unresolved.billing_date
        and observed.model is not distinct from unresolved.model
        and observed.engineer_id = members.engineer_id
    where observed.observed_list_usd > 0
),

split_routes as (
    select distinct route_row from participants
),

measures as (
    -- every quantity of an unresolved route as integer units, split separately and exactly
    unpivot (
        select
            route_row,
            provider,
            billing_date,
            model,
            coalesce(money_units(spend_usd), 0) as spend,
            coalesce(money_units(list_cost_usd), 0) as list,
            coalesce(uncached_input_tokens, 0)::hugeint as uncached_input,
            coalesce(cache_read_tokens, 0)::hugeint as cache_read,
            coalesce(cache_write_5m_tokens, 0)::hugeint as cache_write_5m,
            coalesce(cache_write_1h_tokens, 0)::hugeint as cache_write_1h,
            coalesce(output_tokens, 0)::hugeint as output,
            coalesce(money_units(quantity), 0) as quantity
        from unresolved
        semi join split_routes using (route_row)
    )
    on spend, list, uncached_input, cache_read, cache_write_5m, cache_write_1h, output, quantity
    into name measure value units
),

parts as (
    -- each measure of a route row is split over the members who logged usage, by their list cost
    select
        {'route_row': measures.route_row, 'measure': measures.measure} as grp,
        participants.engineer_id as item,
        measures.units,
        participants.weight
    from measures
    inner join participants using (route_row)
),

split as (
    select grp.route_row, item as engineer_id, grp.measure, units from largest_remainder(parts)
),

split_rows as (
    pivot split on measure in ('spend', 'list', 'uncached_input', 'cache_read', 'cache_write_5m', 'cache_write_1h',
        'output', 'quantity') using sum(units) group by route_row, engineer_id
),

shared_parts as (
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
        'shared_route' as attribution,
        unresolved.cost_basis,
        unresolved.billing_model,
        unresolved.charge_category,
        unresolved.unit,
        if(unresolved.quantity is null, null, money_of_units(split_rows.quantity)) as quantity,
        if(unresolved.spend_usd is null, null,
            money_of_units(split_rows.spend)) as spend_usd,
        if(unresolved.list_cost_usd is null, null,
            money_of_units(split_rows.list)) as list_cost_usd,
        split_rows.uncached_input::bigint as uncached_input_tokens,
        split_rows.cache_read::bigint as cache_read_tokens,
        split_rows.cache_write_5m::bigint as cache_write_5m_tokens,
        split_rows.cache_write_1h::bigint as cache_write_1h_tokens,
        split_rows.output::bigint as output_tokens,
        if(unresolved.pricing_flag = 'unpriced', unresolved.records, 0) as unpriced_records
    from unresolved
    inner join split_rows using (route_row)
),

unclaimed_rows as (
    -- unknown routes, and shared routes none of whose members logged usage that day and model: whole rows
    select
        * exclude (engineer_id),
        null::varchar as engineer_id,
        'unattributed' as attribution,
        if(pricing_flag = 'unpriced', records, 0) as unpriced_records
    from unresolved
    anti join split_routes using (route_row)
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
        billing_model,
        charge_category,
        (billed_cost_usd - allocated_cost_usd)::decimal(38, 12) as spend_usd,
        0 as unpriced_records
    from usage
    where spend_role = 'billed' and billed_cost_usd - allocated_cost_usd <> 0
),

combined as (
    select * from direct_rows
    union all by name
    select * from shared_parts
    union all by name
    select * from unclaimed_rows
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
        billing_model,
        charge_category,
        quantity::decimal(38, 12) as quantity,
        unit,
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

-- unordered: core.fct_spend, its one reader, sorts the books
select * from final;

