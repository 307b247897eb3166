-- The benchmark's baseline: one hand-written DuckDB statement doing the normalization the pipeline does
-- for Claude Code logs: parse every line, dedup by (engineer, message.id) taking the max output and the
-- input and cache fields once, the earliest timestamp, join list prices, one row per message. The bench
-- writes the result as Parquet partitioned by billing_date. `$files` = every session file; the engineer
-- is the folder above `projects/`. Prices are per million tokens (catalog list prices, typed by hand).
with prices(model, input, output, cache_read, cache_write_5m, cache_write_1h) as (
    values
        ('claude-sonnet-4-5-20250929', 3.0, 15.0, 0.30, 3.75, 6.0),
        ('claude-opus-4-1-20250805', 15.0, 75.0, 1.50, 18.75, 30.0),
        ('claude-haiku-4-5-20251001', 1.0, 5.0, 0.10, 1.25, 2.0)
),
lines as (
    select
        lower(regexp_extract(filename, '/([^/]+)/projects/', 1)) as owner,
        "timestamp" as ts,
        message.id as message_id,
        message.model as model,
        message.usage as usage
    from read_json(
        $files,
        format = 'newline_delimited',
        filename = true,
        ignore_errors = true,
        columns = {
            'timestamp': 'timestamptz',
            'message': 'struct(id varchar, model varchar, usage struct(input_tokens bigint, output_tokens bigint,'
                || ' cache_read_input_tokens bigint, cache_creation_input_tokens bigint,'
                || ' cache_creation struct(ephemeral_5m_input_tokens bigint, ephemeral_1h_input_tokens bigint)))'
        }
    )
    where message.usage is not null and message.model <> '<synthetic>'
),
messages as (
    select
        owner,
        message_id,
        min(ts) as first_ts,
        arg_max(struct_pack(model, usage), usage.output_tokens) as best
    from lines
    group by owner, message_id
)
select
    cast(m.first_ts at time zone 'UTC' as date) as billing_date,
    m.owner,
    m.message_id,
    m.best.model as model,
    m.best.usage.input_tokens as uncached_input_tokens,
    m.best.usage.cache_read_input_tokens as cache_read_tokens,
    coalesce(m.best.usage.cache_creation.ephemeral_5m_input_tokens, m.best.usage.cache_creation_input_tokens)
        as cache_write_5m_tokens,
    coalesce(m.best.usage.cache_creation.ephemeral_1h_input_tokens, 0) as cache_write_1h_tokens,
    m.best.usage.output_tokens as output_tokens,
    cast(
        (
            m.best.usage.input_tokens * p.input
            + m.best.usage.output_tokens * p.output
            + m.best.usage.cache_read_input_tokens * p.cache_read
            + coalesce(m.best.usage.cache_creation.ephemeral_5m_input_tokens, 0) * p.cache_write_5m
            + coalesce(m.best.usage.cache_creation.ephemeral_1h_input_tokens, 0) * p.cache_write_1h
        ) / 1000000 as decimal(38, 12)
    ) as list_cost_usd
from messages as m
left join prices as p on p.model = m.best.model
