create table core.fct_invoice as

-- Providers' invoices as loaded (`tokencomp reference load invoices`): one row per invoice line, or one row
-- with no line for an invoice given by its total alone. The monthly invoice tie-out compares them with
-- core.fct_billed_daily.
with invoices as (
    select * from src_invoices
),

final as (
    select
        provider,
        invoice_id,
        period,
        currency,
        total::decimal(38, 12) as total_usd,
        line_kind,
        line_amount::decimal(38, 12) as line_amount_usd,
        description
    from invoices
)

select * from final
order by provider, period, invoice_id, line_kind, description;

comment on table core.fct_invoice is 'Provider invoices as loaded with tokencomp reference load invoices: one row per invoice line (usage, tax, credit, refund, fee, other), or one row without a line for an invoice given by its total only.';
comment on column core.fct_invoice.provider is 'Provider that issued the invoice (as in core.fct_billed_daily).';
comment on column core.fct_invoice.invoice_id is 'The provider''s invoice number.';
comment on column core.fct_invoice.period is 'Month the invoice covers (its first day; UTC billing days, as core.fct_billed_daily).';
comment on column core.fct_invoice.currency is 'Invoice currency (USD: only USD invoices are loaded).';
comment on column core.fct_invoice.total_usd is 'Invoice total, USD, the same on every line of the invoice.';
comment on column core.fct_invoice.line_kind is 'usage, tax, credit, refund, fee or other; null for an invoice given by its total only.';
comment on column core.fct_invoice.line_amount_usd is 'Amount of the line, USD (credits and refunds negative); the lines of an invoice sum to its total.';
comment on column core.fct_invoice.description is 'Line description as the invoice gives it.';
