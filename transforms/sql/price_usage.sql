-- List-price canonical usage rows: match the model, take the price row in force on the billing date for the
-- row's service tier and speed, pick the long-context tier per request (or from context_window for
-- aggregates), multiply.
-- Inputs (replacement scans): usage_rows (with a _row index), model_map, prices. Parameter: $per_request_sources.
with matched as (
    select
        usage_rows.*,
        model_map.model_id,
        model_map.override_version
    from usage_rows
    left join model_map
        on model_map.provider = usage_rows.provider
        and model_map.model_raw = usage_rows.model_raw
),

-- Anthropic's context_window buckets: a request of n input tokens is in (low, high]
context_windows(context_window, window_low, window_high) as (
    values ('0-200k', 0, 200000), ('200k-1M', 200000, 1000000)
),

token_rows as (
    select
        matched.*,
        context_windows.window_low,
        context_windows.window_high,
        matched.uncached_input_tokens is not null as has_tokens,
        list_contains($per_request_sources, matched.source) as per_request,
        matched.uncached_input_tokens + matched.cache_read_tokens
            + matched.cache_write_5m_tokens + matched.cache_write_1h_tokens as total_input_tokens
    from matched
    left join context_windows on context_windows.context_window = matched.context_window
),

chosen as (
    -- the price row in force for the row's tier and speed, else for its tier, else for its speed, else the
    -- standard row (null tier and speed); price_table() stores a variant row only where it changes the price
    select
        token_rows.*,
        case
            when both_named.model is not null then both_named
            when tier_named.model is not null then tier_named
            when speed_named.model is not null then speed_named
            else standard
        end as price
    from token_rows
    left join prices as both_named
        on both_named.provider = token_rows.provider
        and both_named.model = token_rows.model_id
        and both_named.service_tier = token_rows.service_tier
        and both_named.speed = token_rows.speed
        and token_rows.billing_date >= both_named.effective_from
        and (both_named.effective_to is null or token_rows.billing_date < both_named.effective_to)
    left join prices as tier_named
        on tier_named.provider = token_rows.provider
        and tier_named.model = token_rows.model_id
        and tier_named.service_tier = token_rows.service_tier
        and tier_named.speed is null
        and token_rows.billing_date >= tier_named.effective_from
        and (tier_named.effective_to is null or token_rows.billing_date < tier_named.effective_to)
    left join prices as speed_named
        on speed_named.provider = token_rows.provider
        and speed_named.model = token_rows.model_id
        and speed_named.service_tier is null
        and speed_named.speed = token_rows.speed
        and token_rows.billing_date >= speed_named.effective_from
        and (speed_named.effective_to is null or token_rows.billing_date < speed_named.effective_to)
    left join prices as standard
        on standard.provider = token_rows.provider
        and standard.model = token_rows.model_id
        and standard.service_tier is null
        and standard.speed is null
        and token_rows.billing_date >= standard.effective_from
        and (standard.effective_to is null or token_rows.billing_date < standard.effective_to)
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
