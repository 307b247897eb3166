-- Monthly invoice tie-out: per provider and month (`$month`, or every invoiced month when null), the invoice
-- against the billed spend of the same UTC billing days, the difference, and its cause. Tax and credit lines of
-- the invoice explain their amounts (billed sources report usage before tax and credits); days of the month
-- without billed data are the likely cause of what is left. `tie_out`: ties (|difference| within
-- `$tolerance_usd`), explained (tax and credits explain it to within the tolerance), gap (a WARN check), or
-- no_invoice (billed spend, no invoice loaded yet).
with invoice_lines as (
    select * from core.fct_invoice
    where $month::date is null or period = $month::date
),

invoices as (
    select
        provider,
        period as month,
        invoice_id,
        any_value(total_usd) as invoice_usd,
        coalesce(sum(line_amount_usd) filter (where line_kind = 'tax'), 0) as tax_usd,
        coalesce(sum(line_amount_usd) filter (where line_kind in ('credit', 'refund')), 0) as credits_usd
    from invoice_lines
    group by all
),

invoiced as (
    select
        provider,
        month,
        string_agg(invoice_id, ', ' order by invoice_id) as invoice_ids,
        sum(invoice_usd) as invoice_usd,
        sum(tax_usd) as tax_usd,
        sum(credits_usd) as credits_usd
    from invoices
    group by all
),

billed as (
    select
        provider,
        date_trunc('month', billing_date)::date as month,
        sum(billed_usd) as billed_usd,
        count(distinct billing_date) as billed_days
    from core.fct_billed_daily
    where
        ($month::date is null and date_trunc('month', billing_date)::date in (select month from invoiced))
        or date_trunc('month', billing_date)::date = $month::date
    group by all
),

joined as (
    select
        provider,
        month,
        invoiced.invoice_ids,
        invoiced.invoice_usd,
        coalesce(billed.billed_usd, 0) as billed_usd,
        coalesce(invoiced.tax_usd, 0) as tax_usd,
        coalesce(invoiced.credits_usd, 0) as credits_usd,
        coalesce(billed.billed_days, 0) as billed_days,
        date_diff('day', month, (month + interval 1 month)::date) - coalesce(billed.billed_days, 0) as missing_days
    from invoiced
    full outer join billed using (provider, month)
),

measured as (
    select
        *,
        invoice_usd - billed_usd as difference_usd,
        invoice_usd - billed_usd - tax_usd - credits_usd as unexplained_usd
    from joined
),

final as (
    select
        row_number() over (order by month, provider) as row_no,
        month,
        $status as status,
        provider,
        invoice_ids,
        invoice_usd::decimal(38, 12) as invoice_usd,
        billed_usd::decimal(38, 12) as billed_usd,
        difference_usd::decimal(38, 12) as difference_usd,
        tax_usd::decimal(38, 12) as tax_usd,
        credits_usd::decimal(38, 12) as credits_usd,
        unexplained_usd::decimal(38, 12) as unexplained_usd,
        billed_days,
        missing_days,
        case
            when invoice_usd is null then 'no_invoice'
            when abs(difference_usd) <= $tolerance_usd then 'ties'
            when abs(unexplained_usd) <= $tolerance_usd then 'explained'
            else 'gap'
        end as tie_out,
        case
            when invoice_usd is null then 'no invoice loaded'
            when abs(difference_usd) <= $tolerance_usd then 'within tolerance'
            else concat_ws(
                '; ',
                if(tax_usd <> 0, 'tax ' || round(tax_usd, 2)::varchar, null),
                if(credits_usd <> 0, 'credits ' || round(credits_usd, 2)::varchar, null),
                if(
                    abs(unexplained_usd) > $tolerance_usd and missing_days > 0,
                    missing_days || ' day(s) without billed data', null
                ),
                if(abs(unexplained_usd) > $tolerance_usd, 'unexplained ' || round(unexplained_usd, 2)::varchar, null)
            )
        end as cause
    from measured
)

select * from final
order by row_no
