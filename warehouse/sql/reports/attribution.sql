-- How much spend reaches a person, and how: by alias, as a share of a shared route, or not at all
-- (unattributed), with the unattributed part broken down by reason from mart.unattributed.
with spend as (
    select
        coalesce(sum(spend_usd), 0)::decimal(38, 12) as spend_usd,
        coalesce(sum(spend_usd) filter (where attribution = 'alias'), 0)::decimal(38, 12) as alias_usd,
        coalesce(sum(spend_usd) filter (where attribution = 'shared_route'), 0)::decimal(38, 12) as shared_route_usd,
        coalesce(sum(spend_usd) filter (where unattributed), 0)::decimal(38, 12) as unattributed_usd,
        coalesce(sum(unpriced_records), 0) as unpriced_records
    from core.fct_spend
),

unattributed as (
    select
        coalesce(sum(spend_usd) filter (where reason = 'unknown_route'), 0)::decimal(38, 12) as unknown_route_usd,
        coalesce(sum(spend_usd) filter (where reason = 'shared_route_unclaimed'), 0)::decimal(38, 12)
            as shared_route_unclaimed_usd,
        coalesce(sum(spend_usd) filter (where reason = 'unallocated'), 0)::decimal(38, 12) as unallocated_usd,
        count(distinct (provider, principal_kind, principal_id)) filter (where reason = 'unknown_route')
            as unknown_routes
    from mart.unattributed
)

select * from spend, unattributed
