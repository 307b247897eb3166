-- Non-USD money to USD at the billing day's rate: the latest fx_rates row of the currency on or before
-- the billing day, at most $max_age_days old (weekends and holidays have no reference rate).
-- Inputs (registered): money_rows (_row, billing_date, currency, amount_original) for the rows with a
-- non-USD amount and no rate of their own; fx_rates (date, currency, units_per_usd).
-- Output: one row per input row: the rate and its date (null when none is young enough) and
-- billed_cost_usd = amount_original / units_per_usd, rounded once at 12 places, half away from zero.
with latest as (
    select
        m._row,
        m.billing_date,
        m.currency,
        m.amount_original,
        r.date as rate_date,
        if(m.billing_date - r.date <= $max_age_days, r.units_per_usd, null) as fx_rate
    from money_rows as m
    asof left join fx_rates as r
        on r.currency = m.currency
        and r.date <= m.billing_date
),

units as (
    -- scaled once here, so the division below works on plain hugeint columns
    select *, money_units(amount_original) as amount_units, money_units(fx_rate) as rate_units
    from latest
),

final as (
    select
        _row,
        billing_date,
        currency,
        rate_date,
        fx_rate,
        money_of_units(units_div(amount_units, rate_units)) as billed_cost_usd
    from units
)

select * from final
