-- List-price canonical usage rows: match the model, take the price row in force on the billing date for the
-- row's service tier and speed, pick the long-context tier per request (or from context_window for
-- aggregates), multiply.
-- Inputs (frames registered by name): usage_rows (with a _row index), model_map, prices. Parameter: $per_request_sources.
-- Rows share few (provider, model, day, tier, speed) keys: the model and the price row are looked up once per
-- key, then joined back to the rows by it (null parts match null parts).
with price_keys as (
    select distinct provider, model_raw, billing_date, service_tier, speed from usage_rows
),

keyed as (
    select
        price_keys.*,
        model_map.model_id,
        model_map.override_version
    from price_keys
    left join model_map
        on model_map.provider = price_keys.provider
        and model_map.model_raw = price_keys.model_raw
),

key_prices as (
    -- the price row in force for the key's tier and speed, else for its tier, else for its speed, else the
    -- standard row (null tier and speed); price_table() stores a variant row only where it changes the price
    select
        keyed.*,
        case
            when both_named.model is not null then both_named
            when tier_named.model is not null then tier_named
            when speed_named.model is not null then speed_named
            else standard
        end as price
    from keyed
    left join prices as both_named
        on both_named.provider = keyed.provider
        and both_named.model = keyed.model_id
        and both_named.service_tier = keyed.service_tier
        and both_named.speed = keyed.speed
        and keyed.billing_date >= both_named.effective_from
        and (both_named.effective_to is null or keyed.billing_date < both_named.effective_to)
    left join prices as tier_named
        on tier_named.provider = keyed.provider
        and tier_named.model = keyed.model_id
        and tier_named.service_tier = keyed.service_tier
        and tier_named.speed is null
        and keyed.billing_date >= tier_named.effective_from
        and (tier_named.effective_to is null or keyed.billing_date < tier_named.effective_to)
    left join prices as speed_named
        on speed_named.provider = keyed.provider
        and speed_named.model = keyed.model_id
        and speed_named.service_tier is null
        and speed_named.speed = keyed.speed
        and keyed.billing_date >= speed_named.effective_from
        and (speed_named.effective_to is null or keyed.billing_date < speed_named.effective_to)
    left join prices as standard
        on standard.provider = keyed.provider
        and standard.model = keyed.model_id
        and standard.service_tier is null
        and standard.speed is null
        and keyed.billing_date >= standard.effective_from
        and (standard.effective_to is null or keyed.billing_date < standard.effective_to)
),

-- Anthropic's context_window buckets: a request of n input tokens is in (low, high]
context_windows(context_window, window_low, window_high) as (
    values ('0-200k', 0, 200000), ('200k-1M', 200000, 1000000)
),

chosen as (
    select
        usage_rows.*,
        key_prices.model_id,
        key_prices.override_version,
        key_prices.price,
        context_windows.window_low,
        context_windows.window_high,
        usage_rows.uncached_input_tokens is not null as has_tokens,
        list_contains($per_request_sources, usage_rows.source) as per_request,
        usage_rows.uncached_input_tokens + usage_rows.cache_read_tokens
            + usage_rows.cache_write_5m_tokens + usage_rows.cache_write_1h_tokens as total_input_tokens
    from usage_rows
    left join key_prices
        on key_prices.provider is not distinct from usage_rows.provider
        and key_prices.model_raw is not distinct from usage_rows.model_raw
        and key_prices.billing_date is not distinct from usage_rows.billing_date
        and key_prices.service_tier is not distinct from usage_rows.service_tier
        and key_prices.speed is not distinct from usage_rows.speed
    left join context_windows on context_windows.context_window = usage_rows.context_window
),

priced as (
    select
        chosen.* exclude (price),
        price.tier_threshold,
        price.price_version as table_version,
        price.model is not null as has_price,
        -- per request from its own input; an aggregate only when every request its window holds is above
        coalesce(price.tier_threshold is not null and case
            when chosen.per_request then chosen.total_input_tokens > price.tier_threshold
            else price.tier_threshold <= chosen.window_low
        end, false) as use_tier,
        -- an aggregate whose window (or its absence) cannot tell the tier is priced at base and flagged
        not chosen.per_request and price.tier_threshold is not null
            and coalesce(price.tier_threshold > chosen.window_low
                and price.tier_threshold < chosen.window_high, true) as tier_unknown,
        price.uncached_input_mtok, price.cache_read_mtok, price.cache_write_5m_mtok,
        price.cache_write_1h_mtok, price.output_mtok,
        price.tier_uncached_input_mtok, price.tier_cache_read_mtok, price.tier_cache_write_5m_mtok,
        price.tier_cache_write_1h_mtok, price.tier_output_mtok
    from chosen
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
            -- a model named by an overrides pattern is priced "through" the overrides even at a catalog price
            case when has_tokens and has_price then coalesce(override_version, table_version) end as price_version,
            case
                when not has_tokens then costed.pricing_flag
                when not has_price then 'unpriced'
                when tier_unknown then 'base_tier_assumed'
            end as pricing_flag
        )
    from costed
)

select _row, model, list_cost_usd, price_version, pricing_flag from final
