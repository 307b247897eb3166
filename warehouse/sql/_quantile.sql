-- Exact percentiles of money and shares across engineers (linear interpolation, numpy's default, Excel
-- PERCENTILE.INC) in integer units of 1e-12, so a median of DECIMAL(38,12) values is never a DOUBLE.
-- xs: a list of DECIMAL(38,12) without nulls, any order; pct: a whole percentile 0..100. Null for an empty
-- list. The interpolated part is truncated at 12 decimals.
create or replace temp macro money_quantile(xs, pct) as if(
    len(xs) = 0,
    null,
    money_of_units(
        money_units(list_sort(xs)[(len(xs) - 1) * pct // 100 + 1])
        + (
            money_units(list_sort(xs)[least((len(xs) - 1) * pct // 100 + 2, len(xs))])
            - money_units(list_sort(xs)[(len(xs) - 1) * pct // 100 + 1])
        ) * ((len(xs) - 1) * pct % 100) // 100
    )
);
