-- grain: month month
create table mart.engineer_provider_monthly as

-- mart.engineer_monthly's spend broken down by provider: per engineer and month these rows sum to its
-- spend_usd, and with mart.unattributed they sum to core.fct_spend per provider and month (a blocking check).
with spend as (
    select * from core.fct_spend
    where engineer_id is not null
),

final as (
    select
        date_trunc('month', usage_date)::date as month,
        engineer_id,
        provider,
        sum(spend_usd)::decimal(38, 12) as spend_usd,
        sum(spend_usd) filter (where attribution = 'shared_route')::decimal(38, 12) as shared_route_usd,
        sum(list_cost_usd)::decimal(38, 12) as list_cost_usd
    from spend
    group by all
)

select * from final
order by month, engineer_id, provider;

comment on table mart.engineer_provider_monthly is 'Each engineer''s monthly spend per provider: the provider breakdown of mart.engineer_monthly.spend_usd (the two tie exactly, a blocking check).';
comment on column mart.engineer_provider_monthly.month is 'First day of the month (reporting time zone).';
comment on column mart.engineer_provider_monthly.engineer_id is 'Engineer.';
comment on column mart.engineer_provider_monthly.provider is 'Provider billing the spend.';
comment on column mart.engineer_provider_monthly.spend_usd is 'Spend in the month with that provider, USD.';
comment on column mart.engineer_provider_monthly.shared_route_usd is 'The part of spend_usd that is the engineer''s share of shared routes, USD; null when none.';
comment on column mart.engineer_provider_monthly.list_cost_usd is 'List price of the same tokens, USD.';
