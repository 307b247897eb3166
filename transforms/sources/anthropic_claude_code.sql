-- anthropic_claude_code mapping: one record `r` of a Claude Code analytics page (table `results`: with
-- `records_field` NULL each `data[]` item is one record, see the pages reader) to one canonical row per
-- entry of its `model_breakdown`. A record with a bad field is rejected once, at its line, field named.
create or replace temp macro source_records(results, source, provider, publisher) as table
with records as (
    select
        delivery, ordinal, period_start, r, x,
        r ->> '$.actor.email_address' as email,
        r ->> '$.actor.api_key_name' as key_name,
        coalesce(json_type(r, '$.model_breakdown'), 'ABSENT') as breakdown_kind
    from query_table(results)
),

entries as (
    -- every model_breakdown entry of a record, numbered from 0 as the field names say, with its exact twin
    -- `ex` (numbers as their text, see the pages reader) for the money
    select
        delivery, ordinal,
        unnest(json_extract(r, '$.model_breakdown[*]')) as e,
        unnest(json_extract(x, '$.model_breakdown[*]')) as ex,
        generate_subscripts(json_extract(r, '$.model_breakdown[*]'), 1) - 1 as entry_no
    from records
    where breakdown_kind = 'ARRAY'
),

entry_checked as (
    select
        delivery, ordinal, entry_no, e, ex,
        first_problem([
            {'field': 'model_breakdown[' || entry_no || ']', 'reason': if(json_type(e) <> 'OBJECT', 'not an object', null)},
            string_check(e, 'model', false),
            int_check(e, 'tokens.input', false),
            int_check(e, 'tokens.output', false),
            int_check(e, 'tokens.cache_read', false),
            int_check(e, 'tokens.cache_creation', false),
            money_check(ex, 'estimated_cost.amount', false),
            {
                'field': 'estimated_cost.currency',
                'reason': if(coalesce(e ->> '$.estimated_cost.currency', '') <> 'USD', 'not USD', null)
            }
        ]) as entry_problem
    from entries
),

entry_problems as (
    -- the first bad entry of each record, its field named by its place in the record
    select
        delivery, ordinal,
        arg_min(
            {
                'field': if(
                    starts_with(entry_problem.field, 'model_breakdown['),
                    entry_problem.field,
                    'model_breakdown[' || entry_no || '].' || entry_problem.field
                ),
                'reason': entry_problem.reason
            },
            entry_no
        ) as problem
    from entry_checked
    where entry_problem is not null
    group by delivery, ordinal
),

validated as (
    select
        records.*,
        coalesce(
            first_problem([
                {
                    'field': 'actor',
                    'reason': case
                        when email is not null and key_name is not null then 'both email_address and api_key_name'
                        when email is null and key_name is null then 'neither email_address nor api_key_name'
                        when coalesce(email, key_name) = '' then 'empty'
                    end
                },
                string_check(r, 'terminal_type', false),
                {
                    'field': 'is_remote',
                    'reason': case
                        when json_type(r, '$.is_remote') is null then 'missing'
                        when json_type(r, '$.is_remote') <> 'BOOLEAN' then 'not a boolean'
                    end
                },
                {
                    'field': 'model_breakdown',
                    'reason': case
                        when breakdown_kind = 'ABSENT' then 'missing'
                        when breakdown_kind <> 'ARRAY' then 'not a list'
                    end
                }
            ]),
            entry_problems.problem
        ) as problem
    from records
    left join entry_problems using (delivery, ordinal)
),

rows as (
    -- a valid record: one row per model entry; a rejected record: one row carrying its problem
    select v.*, c.entry_no, c.e, c.ex
    from validated as v
    inner join entry_checked as c using (delivery, ordinal)
    where v.problem is null
    union all by name
    select v.*, null as entry_no, null::json as e, null::json as ex
    from validated as v
    where v.problem is not null
)

select
    delivery, ordinal, period_start,
    period_start + interval 1 day as period_end,
    problem,
    publisher as publisher,
    e ->> '$.model' as model,
    e ->> '$.model' as model_raw,
    if(email is not null, 'email', 'api_key_name') as principal_kind,
    coalesce(email, key_name) as principal_id,
    -- Anthropic reports the input kinds apart; the report's one cache-write figure is Claude Code's
    -- default 5-minute cache (it has no 1-hour split)
    int_value(e, '$.tokens.input') as uncached_input_tokens,
    int_value(e, '$.tokens.cache_read') as cache_read_tokens,
    int_value(e, '$.tokens.cache_creation') as cache_write_5m_tokens,
    0::bigint as cache_write_1h_tokens,
    int_value(e, '$.tokens.output') as output_tokens,
    'metered_tokens' as billing_model,
    'usage' as charge_category,
    'USD' as currency,
    -- the estimate in cents, read through its decimal text, to dollars: × 0.01 is exact at scale 12
    -- for any cent amount with up to 10 decimals (a finer one rounds once, here)
    cast(try_cast(ex ->> '$.estimated_cost.amount' as decimal(38, 16)) * 0.01::decimal(3, 2) as decimal(38, 12))
        as amount_original,
    r ->> '$.terminal_type' as key_terminal_type,
    r ->> '$.is_remote' as key_is_remote
from rows
order by delivery, ordinal, entry_no;
