-- Rates per USD from the ECB's euro foreign exchange reference rates (X per EUR, one column per currency).
-- Input (registered): ecb_rates (date, currency, per_eur DECIMAL(38,12)), USD included, N/A cells dropped.
-- Output: date, currency, units_per_usd, for EUR (1 / USD per EUR) and every other currency but USD
-- (X per EUR / USD per EUR), exactly, rounded once at 12 places. A day without a USD rate yields nothing.
with usd as (
    select date, per_eur as usd_per_eur from ecb_rates where currency = 'USD'
),

crossed as (
    select date, 'EUR' as currency, money_div(1::decimal(38, 12), usd_per_eur) as units_per_usd from usd
    union all
    select e.date, e.currency, money_div(e.per_eur, usd.usd_per_eur) as units_per_usd
    from ecb_rates as e
    inner join usd using (date)
    where e.currency <> 'USD'
),

final as (
    select * from crossed order by date, currency
)

select * from final
