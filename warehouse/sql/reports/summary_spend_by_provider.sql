-- Spend over time for the visual report: per provider and UTC billing day, every day before $month_end.
select
    billing_date,
    provider,
    coalesce(sum(spend_usd), 0)::decimal(38, 12) as spend_usd
from core.fct_spend
where billing_date < $month_end
group by all
order by billing_date, provider
