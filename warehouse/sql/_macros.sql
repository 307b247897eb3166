-- Exact money division for run-rates: DuckDB divides decimals in DOUBLE, so divide the amount scaled
-- to integer units of 1e-12 with integer division (truncates toward zero at 12 decimals). Whole and
-- fractional parts are scaled apart, so an amount of 10^14 or more does not overflow DECIMAL(38,12).
create or replace temp macro money_div(amount, divisor) as
    (cast(
        (trunc(amount)::hugeint * 1000000000000::hugeint
            + ((amount - trunc(amount)) * 1000000000000)::hugeint) // divisor
        as decimal(38, 0)
    ) * 0.000000000001::decimal(13, 12))::decimal(38, 12);
