-- A synthetic company's Anthropic Admin API usage, as the anthropic_usage parser gives it (before pricing):
-- one row per engineer (API key), working day and model, for the days in [$start, $end]. About 80% of the
-- engineers work on a given weekday; everyone uses Sonnet, every third engineer-day also Haiku, every
-- seventh Opus. Tokens are deterministic functions of (engineer, day, model). Engineer n owns key
-- `apikey_<n>` in workspace `wrkspc_team<n mod teams>`.
with engineers as (
    select range as n from range($engineers)
),
days as (
    select cast(unnest(generate_series(cast($start as date), cast($end as date), interval 1 day)) as date) as d
),
working as (
    select n, d, hash(n, d) as h
    from engineers cross join days
    where isodow(d) <= 5 and hash(n, d) % 10 < 8
),
models(m, model) as (
    values
        (0, 'claude-sonnet-4-5-20250929'),
        (1, 'claude-haiku-4-5-20251001'),
        (2, 'claude-opus-4-1-20250805')
),
used as (
    select w.n, w.d, m.m, m.model, hash(w.n, w.d, m.m) as k
    from working as w
    join models as m on m.m = 0 or (m.m = 1 and w.h % 3 = 0) or (m.m = 2 and w.h % 7 = 0)
)
select
    d as billing_date,
    cast(d as timestamptz) as period_start,
    cast(d + 1 as timestamptz) as period_end,
    'anthropic_usage' as source,
    'anthropic' as provider,
    'anthropic' as publisher,
    model,
    model as model_raw,
    'standard' as service_tier,
    'api_key_id' as principal_kind,
    printf('apikey_%06d', n) as principal_id,
    'workspace' as scope_kind,
    printf('wrkspc_team%04d', n % $teams) as scope_id,
    cast(k % 20000 as bigint) as uncached_input_tokens,
    cast(k % 900000 as bigint) as cache_read_tokens,
    cast(k % 60000 as bigint) as cache_write_5m_tokens,
    cast(0 as bigint) as cache_write_1h_tokens,
    cast(k % 80000 as bigint) as output_tokens,
    cast(20 + k % 200 as bigint) as requests,
    'metered_tokens' as billing_model,
    'usage' as charge_category,
    sha256(concat_ws(chr(31), 'anthropic_usage', d, n, model)) as record_id,
    sha256(concat_ws(chr(31), 'bench-company', strftime(d, '%Y-%m'))) as raw_sha256,
    cast($landed_at as timestamptz) as ingested_at
from used
