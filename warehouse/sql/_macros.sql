-- Exact money division for run-rates: DuckDB divides decimals in DOUBLE, so divide the amount scaled
-- to integer units of 1e-12 with integer division (truncates toward zero at 12 decimals).
create or replace temp macro money_div(amount, divisor) as
    (cast(cast(amount * 1000000000000 as hugeint) // divisor as decimal(38, 0))
        * 0.000000000001::decimal(13, 12))::decimal(38, 12);
