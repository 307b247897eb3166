-- Price subscription seat rows from seat_prices, pro-rated per day, exactly, in integer units of 1e-12 USD.
-- Inputs (registered): seat_rows (_row, provider, line_item, billing_date, quantity) and
-- seat_prices (provider, plan, price_usd as validated decimal text, period 'month'|'year', valid_from, valid_to).
-- Output: one row per seat row: _row, list_cost_usd (DECIMAL(38,12); null when no price is in force).
--
-- Pro-rating. A monthly price P (units) is split over the n days of the billing month by the largest-remainder
-- method: every day gets P // n and the first P % n days one unit more, so one seat held every day of a month
-- costs exactly P. A yearly price is first split over the 12 calendar months the same way (January first),
-- then each month over its days, so a full calendar year of days costs exactly the yearly price.
-- Money never passes through DOUBLE: decimals become HUGEINT units, and only `//` and `%` divide.
with prices as (
    select
        provider,
        plan,
        period,
        valid_from,
        valid_to,
        cast(price_usd as decimal(38, 12)) as price
    from seat_prices
),

price_units as (
    -- whole dollars and the fraction apart, so scaling by 1e12 cannot overflow DECIMAL(38, 12)
    select
        *,
        trunc(price)::hugeint * 1000000000000::hugeint + ((price - trunc(price)) * 1000000000000)::hugeint
            as plan_units
    from prices
),

in_force as (
    -- the price whose [valid_from, valid_to) holds the day; if reference rows overlap, the latest start wins
    select
        r._row,
        r.billing_date,
        r.quantity,
        p.period,
        p.plan_units
    from seat_rows as r
    left join price_units as p
        on p.provider = r.provider
        and p.plan = r.line_item
        and (p.valid_from is null or r.billing_date >= p.valid_from)
        and (p.valid_to is null or r.billing_date < p.valid_to)
    qualify row_number() over (
        partition by r._row
        order by p.valid_from desc nulls last, p.valid_to asc nulls last, p.plan_units desc, p.period
    ) = 1
),

month_units as (
    select
        *,
        case period
            when 'month' then plan_units
            when 'year' then plan_units // 12 + if(month(billing_date) <= plan_units % 12, 1, 0)
        end as month_units,
        day(last_day(billing_date))::hugeint as days_in_month,
        day(billing_date) as day_of_month
    from in_force
),

day_units as (
    select
        *,
        month_units // days_in_month + if(day_of_month <= month_units % days_in_month, 1, 0) as seat_day_units,
        trunc(quantity)::hugeint * 1000000000000::hugeint
            + ((quantity - trunc(quantity)) * 1000000000000)::hugeint as quantity_units
    from month_units
),

costed as (
    -- quantity_units * seat_day_units is in units of 1e-24; back to 1e-12, half away from zero
    -- (exact for whole seats, the usual case)
    select
        _row,
        quantity_units * seat_day_units as cost_units_24
    from day_units
),

final as (
    select
        _row,
        (
            sign(cost_units_24) * ((abs(cost_units_24) + 500000000000) // 1000000000000)
        )::decimal(38, 0) * 0.000000000001::decimal(13, 12) as cost
    from costed
)

select
    _row,
    cost::decimal(38, 12) as list_cost_usd
from final
