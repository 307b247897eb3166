-- Money of one export rounded to cents by largest remainder within each column's total (DESIGN: reports round
-- to cents so they still tie). Input: `report_exact` with a `row_no` and DECIMAL(38,12) money columns named
-- `*_usd`. Each amount is floored to the cent; the cents the floors lose against the column total (rounded once,
-- half away from zero) go one each to the rows with the largest remainders, the lower row_no first on a tie.
-- So every column sums to its exact total rounded to the cent, and no amount moves by a cent or more.
-- Output: row_no, money_column, amount_usd (DECIMAL(38,2)); NULL amounts (unpriced) stay out and stay NULL.
with amounts as (
    unpivot (select row_no, columns('_usd$') from report_exact)
    on columns('_usd$')
    into name money_column value amount_usd
),

units as (
    select row_no, money_column, money_units(amount_usd) as units
    from amounts
),

floored as (
    -- DuckDB's // truncates toward zero; a floor needs one less for a negative remainder
    select
        *,
        units // 10000000000 - if(units % 10000000000 < 0, 1, 0) as floor_cents
    from units
),

ranked as (
    select
        *,
        sign(sum(units) over columns_total)
            * ((abs(sum(units) over columns_total) + 5000000000) // 10000000000) as total_cents,
        sum(floor_cents) over columns_total as floored_cents,
        row_number() over (
            partition by money_column order by units - floor_cents * 10000000000 desc, row_no
        ) as remainder_rank
    from floored
    window columns_total as (partition by money_column)
),

final as (
    select
        row_no,
        money_column,
        money_of_units(
            (floor_cents + if(remainder_rank <= total_cents - floored_cents, 1, 0)) * 10000000000
        )::decimal(38, 2) as amount_usd
    from ranked
)

select * from final
order by money_column, row_no
