-- List-price canonical usage rows: match the catalog model, pick the price period in force on the
-- billing date, pick the tier per request (or from context_window for aggregates), multiply.
-- Inputs (replacement scans): usage_rows (with a _row index), model_map, prices. Parameter: $per_request_sources.
with matched as (
    select
        usage_rows.*,
        model_map.model_id
    from usage_rows
    left join model_map
        on model_map.provider = usage_rows.provider
        and model_map.model_raw = usage_rows.model_raw
),

token_rows as (
    select
        matched.*,
        matched.uncached_input_tokens is not null as has_tokens,
        list_contains($per_request_sources, matched.source) as per_request,
        matched.uncached_input_tokens + matched.cache_read_tokens
            + matched.cache_write_5m_tokens + matched.cache_write_1h_tokens as total_input_tokens
    from matched
),

priced as (
    select
        token_rows.*,
        prices.tier_threshold,
        prices.price_version as catalog_version,
        prices.model is not null as has_price,
        coalesce(prices.tier_threshold is not null and case
            when token_rows.per_request then token_rows.total_input_tokens > prices.tier_threshold
            else token_rows.context_window is not null and token_rows.context_window <> '0-200k'
        end, false) as use_tier,
        prices.uncached_input_mtok, prices.cache_read_mtok, prices.cache_write_5m_mtok,
        prices.cache_write_1h_mtok, prices.output_mtok,
        prices.tier_uncached_input_mtok, prices.tier_cache_read_mtok, prices.tier_cache_write_5m_mtok,
        prices.tier_cache_write_1h_mtok, prices.tier_output_mtok
    from token_rows
    left join prices
        on prices.provider = token_rows.provider
        and prices.model = token_rows.model_id
        and token_rows.billing_date >= prices.effective_from
        and (prices.effective_to is null or token_rows.billing_date < prices.effective_to)
),

costed as (
    select
        priced.*,
        (
            priced.uncached_input_tokens::decimal(38, 0)
                * if(use_tier, tier_uncached_input_mtok, uncached_input_mtok)
            + priced.cache_read_tokens::decimal(38, 0) * if(use_tier, tier_cache_read_mtok, cache_read_mtok)
            + priced.cache_write_5m_tokens::decimal(38, 0)
                * if(use_tier, tier_cache_write_5m_mtok, cache_write_5m_mtok)
            + priced.cache_write_1h_tokens::decimal(38, 0)
                * if(use_tier, tier_cache_write_1h_mtok, cache_write_1h_mtok)
            + priced.output_tokens::decimal(38, 0) * if(use_tier, tier_output_mtok, output_mtok)
        ) * 0.000001::decimal(7, 6) as token_cost
    from priced
),

final as (
    select
        costed.* replace (
            coalesce(costed.model_id, costed.model_raw) as model,
            case when has_tokens and has_price then token_cost::decimal(38, 12) end as list_cost_usd,
            case when has_tokens and has_price then catalog_version end as price_version,
            case
                when not has_tokens then costed.pricing_flag
                when not has_price then 'unpriced'
                when not per_request and context_window is null and tier_threshold is not null
                    then 'base_tier_assumed'
            end as pricing_flag
        )
    from costed
)

select * from final
