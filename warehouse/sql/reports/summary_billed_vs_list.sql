-- Billed against list cost per provider in the billing month (UTC days), from the invoice tie-out.
select
    provider,
    sum(billed_usd)::decimal(38, 12) as billed_usd,
    sum(list_usd)::decimal(38, 12) as list_usd
from mart.reconciliation
where billing_date >= $month and billing_date < $month_end
group by provider
order by provider
