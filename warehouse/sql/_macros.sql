-- Exact money division for run-rates: DuckDB divides decimals in DOUBLE, so divide the amount scaled
-- to integer units of 1e-12 with integer division (truncates toward zero at 12 decimals). Whole and
-- fractional parts are scaled apart, so an amount of 10^14 or more does not overflow DECIMAL(38,12).
create or replace temp macro money_div(amount, divisor) as
    (cast(
        (trunc(amount)::hugeint * 1000000000000::hugeint
            + ((amount - trunc(amount)) * 1000000000000)::hugeint) // divisor
        as decimal(38, 0)
    ) * 0.000000000001::decimal(13, 12))::decimal(38, 12);

-- Exact share of two non-negative amounts at 12 decimals (truncated), for ratios such as spend over base
-- pay: DuckDB would divide decimals in DOUBLE. Both are scaled to integer units of 1e-12; the quotient is
-- found by long division in two steps of 10^6, so no product passes HUGEINT for amounts below 10^20.
-- NULL when the denominator is NULL or zero.
create or replace temp macro units_of(amount) as
    trunc(amount)::hugeint * 1000000000000::hugeint + ((amount - trunc(amount)) * 1000000000000)::hugeint;
create or replace temp macro share_div(num, den) as
    if(den is null or den = 0, null,
        (cast(
            (units_of(num) // units_of(den)) * 1000000000000::hugeint
            + ((units_of(num) % units_of(den)) * 1000000 // units_of(den)) * 1000000
            + (((units_of(num) % units_of(den)) * 1000000 % units_of(den)) * 1000000 // units_of(den))
            as decimal(38, 0)
        ) * 0.000000000001::decimal(13, 12))::decimal(38, 12));
