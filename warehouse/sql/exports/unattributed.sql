-- Unattributed spend of one month (`$month`): unresolved principals, shared routes none of whose members logged
-- usage, and unallocated billed dollars, largest first, with what to load to fix each (mart.unattributed).
with unattributed as (
    select * from mart.unattributed
    where month = $month
),

final as (
    select
        row_number() over (
            order by spend_usd desc nulls last, provider, principal_kind, principal_id, scope_id, reason
        ) as row_no,
        month,
        $status as status,
        provider,
        principal_kind,
        principal_id,
        scope_kind,
        scope_id,
        scope_cost_centre,
        reason,
        spend_usd,
        list_cost_usd,
        first_seen,
        last_seen,
        days
    from unattributed
)

select * from final
order by row_no
