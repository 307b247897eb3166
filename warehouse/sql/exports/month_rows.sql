-- Whether the warehouse holds anything for a month (`$month`): spend rows by usage day, billed rows by UTC day.
select
    (select count(*) from core.fct_spend where date_trunc('month', usage_date)::date = $month) as spend_rows,
    (select count(*) from core.fct_billed_daily where date_trunc('month', billing_date)::date = $month) as billed_rows,
    (select min(usage_date) from core.fct_spend) as first_day,
    (select max(usage_date) from core.fct_spend) as last_day
