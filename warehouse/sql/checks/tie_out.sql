-- Blocking check run before publishing: the warehouse reproduces the lake's dollars exactly, every billed
-- dollar placed on usage is carried by exactly one metered row, spend equals what was billed (plus
-- list-priced usage where no bill exists), and every reconciliation row ties out.
with lake as (
    select
        coalesce(sum(list_cost_usd), 0)::decimal(38, 12) as list_usd,
        coalesce(sum(billed_cost_usd), 0)::decimal(38, 12) as billed_usd,
        coalesce(sum(list_cost_usd) filter (where spend_role = 'metered' and cost_basis = 'list'), 0)
            ::decimal(38, 12) as list_basis_usd,
        coalesce(sum(allocated_cost_usd) filter (where spend_role = 'metered' and cost_basis = 'allocated'), 0)
            ::decimal(38, 12) as metered_allocated_usd,
        coalesce(sum(allocated_cost_usd) filter (where spend_role = 'billed'), 0)::decimal(38, 12)
            as billed_allocated_usd
    from src_usage
),

usage as (
    select
        coalesce(sum(list_cost_usd), 0)::decimal(38, 12) as list_usd,
        coalesce(sum(billed_cost_usd), 0)::decimal(38, 12) as billed_usd
    from core.fct_usage_daily
),

spend as (
    select coalesce(sum(spend_usd), 0)::decimal(38, 12) as spend_usd from core.fct_spend
),

billed as (
    select coalesce(sum(billed_usd), 0)::decimal(38, 12) as billed_usd from core.fct_billed_daily
),

reconciliation as (
    select count(*) filter (where allocated_usd + unallocated_usd <> billed_usd) as rows_not_tied
    from mart.reconciliation
),

final as (
    select
        lake.list_usd as lake_list_usd,
        usage.list_usd as usage_list_usd,
        lake.billed_usd as lake_billed_usd,
        usage.billed_usd as usage_billed_usd,
        billed.billed_usd as fct_billed_usd,
        lake.metered_allocated_usd,
        lake.billed_allocated_usd,
        (lake.billed_usd + lake.list_basis_usd)::decimal(38, 12) as expected_spend_usd,
        spend.spend_usd as fct_spend_usd,
        reconciliation.rows_not_tied,
        0::bigint as zero
    from lake, usage, spend, billed, reconciliation
)

select * from final
