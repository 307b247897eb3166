-- How much metered spend can be tied to a person (direct aliases only in this version).
select
    coalesce(sum(spend_usd), 0)::decimal(38, 12) as spend_usd,
    coalesce(sum(spend_usd) filter (where unattributed), 0)::decimal(38, 12) as unattributed_usd,
    count(distinct principal_id) filter (where unattributed) as unattributed_principals,
    coalesce(sum(unpriced_records), 0) as unpriced_records
from core.fct_spend
