-- Exact money division at 12 decimals. DuckDB divides DECIMALs in DOUBLE, so both operands are taken as
-- integer units of 1e-12 (hugeint) and divided with integer arithmetic, rounded once, half away from zero.
-- Bounds (docs/money.md): |a| < 10^14 and 0 < b < 10^9 keep every intermediate inside hugeint (< 1.7e38).
-- Needs money_units and money_of_units (money_macros.sql, installed first).

-- round(a / b * 10^12) for hugeints a and b > 0, half away from zero; quotient and remainder apart so
-- that only the remainder (below b) is multiplied by 10^12.
create or replace temp macro units_div(a, b) as
    sign(a) * (
        (abs(a) // b) * 1000000000000::hugeint
            + ((abs(a) % b) * 2000000000000::hugeint + b) // (2 * b)
    );

-- a / b for DECIMAL(38,12) values, b > 0, rounded once at 12 places, half away from zero.
create or replace temp macro money_div(a, b) as money_of_units(units_div(money_units(a), money_units(b)));
