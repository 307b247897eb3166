-- Exact money in integer units of 1e-12 USD, and exact division, shared by the lake build (transforms/) and the warehouse
-- (warehouse/build.py): both install this one file through `transforms.money.install_money_macros`.
-- Bounds (docs/money.md): a DECIMAL(38,12) is below 10^26, so its units are below 10^38 < HUGEINT's 1.7e38.

-- A DECIMAL(38,12) as integer units of 1e-12. Whole and fractional parts apart, so `x * 10^12` never
-- has to fit DECIMAL(38,12) itself.
create or replace temp macro money_units(x) as
    cast(trunc(x) as hugeint) * 1000000000000::hugeint
        + cast((x - trunc(x)) * 1000000000000 as hugeint);

create or replace temp macro money_of_units(u) as
    (cast(u as decimal(38, 0)) * 0.000000000001::decimal(13, 12))::decimal(38, 12);

-- Largest remainder: split each group's `units` over its items in proportion to their weights, so that the
-- shares sum to `units` exactly. Used by allocation (allocate.sql), seats (price_seats.sql) and the
-- shared-route split (warehouse core/spend_computed.sql).
-- Input: the name of a table or CTE with columns
--   grp     the group (any type; a struct for a composite key);
--   item    unique within its group, any orderable type: on equal remainders the lower item gets the unit;
--   units   HUGEINT, the signed total of the group (the same on each of its rows);
--   weight  HUGEINT >= 0. A group whose weights sum to 0 gets no shares (its total stays with the caller).
-- Output: grp, item, units (the item's share, with the sign of the total).
--
-- Overflow. Each share is floor(U * w / W) for U = |units|, computed as q * w + floor(r * w / W) with
-- U = q * W + r: q * w <= U, and r * w < min(U, W) * w, which fits HUGEINT while min(digits of U,
-- digits of W) + digits of W <= 38, so whenever W < 10^19 or U and W have at most 38 digits between them.
-- Past that the weights drop the fewest trailing digits d that keep it so. The shares still sum to the
-- total exactly; each moves from its exact proportion U * w / W by less than 1 + n * U * 10^d / W units
-- for n items: under 1 + n * 10^(2b - 37) for a total of b <= 19 digits, under 1 + n * U / 10^18 above.
create or replace temp macro largest_remainder(parts) as table
with totals as (
    select grp, item, units, weight, sum(weight) over (partition by grp) as total_weight
    from query_table(parts)
),

sized as (
    select
        *,
        greatest(
            0,
            least(
                length(abs(units)::varchar) + length(total_weight::varchar) - 38,
                length(total_weight::varchar) - 19
            )
        ) as dropped_digits
    from totals
    where total_weight > 0
),

shortened as (
    select grp, item, units, weight // ('1' || repeat('0', dropped_digits))::hugeint as weight
    from sized
),

weighted as (
    select
        *,
        abs(units) // sum(weight) over (partition by grp) as quotient,
        abs(units) % sum(weight) over (partition by grp) as rest,
        sum(weight) over (partition by grp) as total_weight
    from shortened
),

floored as (
    select
        grp,
        item,
        units,
        quotient * weight + rest * weight // total_weight as floor_units,
        rest * weight % total_weight as remainder
    from weighted
),

ranked as (
    select
        *,
        abs(units) - sum(floor_units) over (partition by grp) as leftover,
        row_number() over (partition by grp order by remainder desc, item) as remainder_rank
    from floored
)

select
    grp,
    item,
    sign(units) * (floor_units + if(remainder_rank <= leftover, 1, 0)) as units
from ranked;

-- Division. DuckDB divides DECIMALs in DOUBLE, so every money division here is integer arithmetic on units.
-- money_div rounds half away from zero; bounds (docs/money.md): |a| < 10^14 and 0 < b < 10^9 keep every
-- intermediate inside HUGEINT.

-- round(a / b * 10^12) for hugeints a and b > 0, half away from zero; quotient and remainder apart so
-- that only the remainder (below b) is multiplied by 10^12.
create or replace temp macro units_div(a, b) as
    sign(a) * (
        (abs(a) // b) * 1000000000000::hugeint
            + ((abs(a) % b) * 2000000000000::hugeint + b) // (2 * b)
    );

-- a / b for DECIMAL(38,12) values, b > 0, rounded once at 12 places, half away from zero.
create or replace temp macro money_div(a, b) as money_of_units(units_div(money_units(a), money_units(b)));

-- amount / n for a whole number n > 0 (a run-rate over days, a salary), truncated toward zero at 12 places.
create or replace temp macro money_div_down(amount, n) as money_of_units(money_units(amount) // n);

-- num / den for non-negative amounts (a share such as spend over base pay), truncated at 12 places; NULL when
-- den is NULL or zero. Long division in two steps of 10^6, so no product passes HUGEINT below 10^20 USD.
create or replace temp macro share_div(num, den) as
    if(den is null or den = 0, null,
        money_of_units(
            (money_units(num) // money_units(den)) * 1000000000000::hugeint
            + ((money_units(num) % money_units(den)) * 1000000 // money_units(den)) * 1000000
            + (((money_units(num) % money_units(den)) * 1000000 % money_units(den)) * 1000000 // money_units(den))
        ));
