-- Reconciliation for one month (`$month`, UTC billing days): per provider, scope and day, what was billed, the
-- list price of the metered tokens, the billed dollars allocated onto usage and the unallocated rest
-- (billed = allocated + unallocated per row, exactly, in the warehouse: a blocking check at build).
with reconciliation as (
    select * from mart.reconciliation
    where date_trunc('month', billing_date)::date = $month
),

final as (
    select
        row_number() over (order by provider, scope_kind, scope_id, billing_date) as row_no,
        $month::date as month,
        $status as status,
        provider,
        scope_kind,
        scope_id,
        billing_date,
        billed_usd,
        list_usd,
        allocated_usd,
        unallocated_usd,
        diff_usd,
        diff_pct
    from reconciliation
)

select * from final
order by row_no
