create table mart.unpriced_models as

-- Models the price catalog (and the local overrides) do not know. Their tokens are flagged, never priced
-- at $0: add a row to the price overrides file and rerun the affected days.
with usage as (
    select * from core.fct_usage_daily
    where pricing_flag = 'unpriced'
),

final as (
    select
        provider,
        model_raw,
        string_agg(distinct source, ', ' order by source) as sources,
        sum(records) as records,
        sum(coalesce(uncached_input_tokens, 0) + coalesce(cache_read_tokens, 0) + coalesce(cache_write_5m_tokens, 0)
            + coalesce(cache_write_1h_tokens, 0)) as input_tokens,
        sum(output_tokens) as output_tokens,
        min(billing_date) as first_seen,
        max(billing_date) as last_seen
    from usage
    group by provider, model_raw
)

select * from final
order by records desc, provider, model_raw;

comment on table mart.unpriced_models is 'Models with usage but no list price: flagged, never priced at $0. Add them to the price overrides file and rerun.';
comment on column mart.unpriced_models.provider is 'Provider that reported the usage.';
comment on column mart.unpriced_models.model_raw is 'Model name exactly as the source reported it.';
comment on column mart.unpriced_models.sources is 'Sources that reported it.';
comment on column mart.unpriced_models.records is 'Lake records affected.';
comment on column mart.unpriced_models.input_tokens is 'Input tokens affected (all kinds).';
comment on column mart.unpriced_models.output_tokens is 'Output tokens affected.';
comment on column mart.unpriced_models.first_seen is 'First billing day with usage of the model.';
comment on column mart.unpriced_models.last_seen is 'Last billing day with usage of the model.';
