-- Blocking check: at most one engineer per (kind, value, day). Two aliases naming different engineers
-- for overlapping days would fan one principal's spend out to both; the build stops instead. Pulled aliases
-- count too (two people's keys with one name), but one a hand alias overrides is already cut in core.dim_alias.
with aliases as (
    select * from core.dim_alias
),

conflicts as (
    select
        a.kind,
        a.value,
        a.engineer_id as engineer_a,
        b.engineer_id as engineer_b,
        a.origin as origin_a,
        b.origin as origin_b,
        greatest(a.valid_from, b.valid_from) as overlap_from,
        least(coalesce(a.valid_to, date '9999-12-31'), coalesce(b.valid_to, date '9999-12-31')) as overlap_to
    from aliases as a
    inner join aliases as b
        on a.kind = b.kind
        and a.value = b.value
        and a.engineer_id < b.engineer_id
        and a.valid_from < coalesce(b.valid_to, date '9999-12-31')
        and b.valid_from < coalesce(a.valid_to, date '9999-12-31')
),

final as (
    select distinct * from conflicts
)

select * from final
order by kind, value, engineer_a, engineer_b
