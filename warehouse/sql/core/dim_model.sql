create table core.dim_model as

with usage as (
    select * from src_usage
    where model is not null
),

models as (
    select
        provider,
        model,
        any_value(publisher) as publisher,
        string_agg(distinct model_raw, ', ' order by model_raw) as raw_names,
        bool_or(pricing_flag = 'unpriced') as unpriced,
        any_value(price_version) filter (where price_version is not null) as price_version,
        min(billing_date) as first_seen,
        max(billing_date) as last_seen
    from usage
    group by provider, model
),

final as (
    select
        provider,
        model,
        publisher,
        model_family(model) as model_family,
        raw_names,
        unpriced,
        price_version,
        first_seen,
        last_seen
    from models
)

select * from final
order by provider, model;

comment on table core.dim_model is 'Models seen in usage, by provider, with the raw names that mapped to each catalog model and whether it could be priced.';
comment on column core.dim_model.provider is 'Provider that bills the model.';
comment on column core.dim_model.model is 'Canonical model id from the price catalog; the raw name when the catalog does not know it.';
comment on column core.dim_model.publisher is 'Who made the model.';
comment on column core.dim_model.model_family is 'Family of the model for chargeback (claude-opus, gpt-5, o-series, gemini-flash, …): the first rule of warehouse/model_families.csv matching the model id, ''other'' when none does (docs/model-families.md).';
comment on column core.dim_model.raw_names is 'Every raw model name the providers reported for this model.';
comment on column core.dim_model.unpriced is 'True when some usage of the model has no list price (flagged, never priced at $0).';
comment on column core.dim_model.price_version is 'Version of the price data used to price it.';
comment on column core.dim_model.first_seen is 'First billing date with usage.';
comment on column core.dim_model.last_seen is 'Last billing date with usage.';
