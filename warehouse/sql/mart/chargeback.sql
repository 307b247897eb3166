-- grain: month month
create table mart.chargeback as

-- Month-end chargeback: every dollar of core.fct_spend charged to a cost centre. Spend of a named engineer
-- goes to the engineer's cost centre on the day of use; spend no engineer carries goes to its scope's cost
-- centre (config `scopes`), else to '(unassigned)'. Per provider and month the rows sum to core.fct_spend.
with spend as (
    select * from core.fct_spend
),

engineers as (
    select * from core.dim_engineer
),

families as (
    select model, model_family(model) as model_family
    from (select distinct model from spend where model is not null)
),

charged as (
    select
        date_trunc('month', spend.usage_date)::date as month,
        coalesce(engineers.cost_centre, spend.scope_cost_centre, '(unassigned)') as cost_centre,
        spend.provider,
        coalesce(families.model_family, 'other') as model_family,
        spend.engineer_id,
        spend.spend_usd,
        spend.list_cost_usd
    from spend
    left join engineers
        on engineers.engineer_id = spend.engineer_id
        and engineers.valid_from <= spend.usage_date
        and (engineers.valid_to is null or engineers.valid_to > spend.usage_date)
    left join families on families.model = spend.model
),

final as (
    select
        month,
        cost_centre,
        provider,
        model_family,
        coalesce(sum(spend_usd), 0)::decimal(38, 12) as spend_usd,
        coalesce(sum(spend_usd) filter (where engineer_id is not null), 0)::decimal(38, 12) as attributed_usd,
        coalesce(sum(spend_usd) filter (where engineer_id is null), 0)::decimal(38, 12) as unattributed_usd,
        sum(list_cost_usd)::decimal(38, 12) as list_cost_usd,
        count(distinct engineer_id) as engineers
    from charged
    group by all
)

select * from final
order by month, cost_centre, provider, model_family;

comment on table mart.chargeback is 'Month-end chargeback: spend per cost centre, provider, model family and month. Named engineers'' spend goes to their cost centre on the day of use, the rest to its scope''s cost centre (or (unassigned)); the rows sum to core.fct_spend per provider and month.';
comment on column mart.chargeback.month is 'First day of the month (reporting time zone).';
comment on column mart.chargeback.cost_centre is 'Cost centre charged: the engineer''s, else the scope''s, else (unassigned).';
comment on column mart.chargeback.provider is 'Provider billing the spend.';
comment on column mart.chargeback.model_family is 'Model family (warehouse/model_families.csv); other for a model no rule matches and for billed dollars no metered row carries (the labels of the chargeback export).';
comment on column mart.chargeback.spend_usd is 'Spend charged, USD (attributed + unattributed).';
comment on column mart.chargeback.attributed_usd is 'Part of spend_usd that reaches a named engineer.';
comment on column mart.chargeback.unattributed_usd is 'Part of spend_usd that reaches no engineer (charged through the scope).';
comment on column mart.chargeback.list_cost_usd is 'List price of the same tokens, USD; null where none.';
comment on column mart.chargeback.engineers is 'Distinct engineers behind the attributed spend.';
