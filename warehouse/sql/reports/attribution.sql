-- How much spend is tied to a person, and how: by alias, by observational split of shared routes, or not.
select
    coalesce(sum(spend_usd), 0)::decimal(38, 12) as spend_usd,
    coalesce(sum(spend_usd) filter (where attribution = 'alias'), 0)::decimal(38, 12) as alias_usd,
    coalesce(sum(spend_usd) filter (where attribution = 'observational'), 0)::decimal(38, 12) as observational_usd,
    coalesce(sum(spend_usd) filter (where unattributed), 0)::decimal(38, 12) as unattributed_usd,
    count(distinct principal_id) filter (where unattributed and principal_id is not null) as unattributed_principals,
    coalesce(sum(unpriced_records), 0) as unpriced_records
from core.fct_spend
