-- Price subscription seat rows from seat_prices, pro-rated per day, exactly, in integer units of 1e-12 USD.
-- Inputs (registered): seat_rows (_row, provider, line_item, billing_date, quantity) and
-- seat_prices (provider, plan, price_usd as validated decimal text, period 'month'|'year', valid_from, valid_to).
-- Output: one row per seat row: _row, list_cost_usd (DECIMAL(38,12); null when no price is in force).
--
-- Pro-rating. A monthly price P (units) is split over the n days of the billing month by the largest-remainder
-- macro (money_macros.sql), every day weighing 1: every day gets P // n and the first P % n days one unit
-- more, so one seat held every day of a month costs exactly P. A yearly price is first split over the 12
-- calendar months the same way (January first), then each month over its days, so a full calendar year of
-- days costs exactly the yearly price.
-- Money never passes through DOUBLE: decimals become HUGEINT units, and only `//` and `%` divide.
-- Macros: money_units, money_of_units, largest_remainder (money_macros.sql).
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
    select *, money_units(price) as plan_units from prices
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

year_parts as (
    -- a yearly price over the 12 calendar months, each weighing 1: the earliest months take the extra units
    select {'plan_units': y.plan_units} as grp, m.month as item, y.plan_units as units, 1::hugeint as weight
    from (select distinct plan_units from in_force where period = 'year') as y
    cross join range(1, 13) as m(month)
),

year_months as (
    select grp.plan_units, item as month, units as month_units from largest_remainder(year_parts)
),

month_units as (
    select
        in_force.*,
        case in_force.period
            when 'month' then in_force.plan_units
            when 'year' then year_months.month_units
        end as month_units,
        day(last_day(in_force.billing_date))::hugeint as days_in_month,
        day(in_force.billing_date) as day_of_month
    from in_force
    left join year_months
        on in_force.period = 'year'
        and year_months.plan_units = in_force.plan_units
        and year_months.month = month(in_force.billing_date)
),

month_parts as (
    -- a month's amount over its days, each weighing 1: the earliest days take the extra units
    select
        {'month_units': g.month_units, 'days_in_month': g.days_in_month} as grp,
        d.day as item,
        g.month_units as units,
        1::hugeint as weight
    from (select distinct month_units, days_in_month from month_units where month_units is not null) as g
    inner join range(1, 32) as d(day) on d.day <= g.days_in_month
),

month_days as (
    select grp.month_units, grp.days_in_month, item as day_of_month, units as seat_day_units
    from largest_remainder(month_parts)
),

day_units as (
    select
        month_units.*,
        month_days.seat_day_units,
        money_units(month_units.quantity) as quantity_units
    from month_units
    left join month_days
        on month_days.month_units = month_units.month_units
        and month_days.days_in_month = month_units.days_in_month
        and month_days.day_of_month = month_units.day_of_month
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
        money_of_units(sign(cost_units_24) * ((abs(cost_units_24) + 500000000000) // 1000000000000)) as cost
    from costed
)

select
    _row,
    cost::decimal(38, 12) as list_cost_usd
from final
