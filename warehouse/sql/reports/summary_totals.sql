-- The headline of the visual report: the month's spend by usage month (what the person-level charts add up
-- to) and by billing month (what the provider charts and the FOCUS export add up to).
select
    coalesce(sum(spend_usd) filter (where usage_date >= $month and usage_date < $month_end), 0)::decimal(38, 12)
        as usage_month_usd,
    coalesce(sum(spend_usd) filter (where billing_date >= $month and billing_date < $month_end), 0)::decimal(38, 12)
        as billing_month_usd
from core.fct_spend
