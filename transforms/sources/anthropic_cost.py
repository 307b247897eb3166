"""Anthropic Admin API cost report (`GET /v1/organizations/cost_report`).

Billed dollars per day, workspace and description (model × token kind, web search, code
execution). `amount` is a decimal string in CENTS, converted to dollars exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

from transforms.common import ParseResult, RawFile, connect, plain_text_paths
from transforms.sources._pages import collect, open_pages

SOURCE = "anthropic_cost"

REQUIRED: tuple[str, ...] = ("amount", "currency")

# The natural key: bucket start + workspace + the description fields (nulls kept distinct).
KEY_COLUMNS: tuple[str, ...] = (
    "period_start",
    "key_workspace_id",
    "line_item",
    "key_cost_type",
    "model_raw",
    "key_token_type",
    "service_tier",
    "context_window",
    "inference_geo",
)

SHAPE_SQL = """
create or replace temp table checked as
with validated as (
    select
        delivery, ordinal, period_start, period_end, r,
        first_problem([
            money_check(r, 'amount', false),
            string_check(r, 'currency', false)
        ]) as problem,
        -- cents -> dollars, rounded once at 12 places. DECIMAL division would go through DOUBLE,
        -- so multiply by 0.01; reading the cents at scale 16 keeps the product exact before rounding.
        cast(try_cast(r ->> '$.amount' as decimal(38, 16)) * 0.01::decimal(3, 2) as decimal(38, 12))
            as dollars,
        upper(r ->> '$.currency') as currency
    from results
)
select
    delivery,
    ordinal as line,
    problem.field as reject_field,
    problem.reason as reject_reason,
    case when problem is null then cast(period_start as date) end as stat_date,
    cast(period_start as date) as billing_date,
    period_start,
    period_end,
    'anthropic_cost' as source,
    'anthropic' as provider,
    case when r ->> '$.model' is not null then 'anthropic' end as publisher,
    r ->> '$.model' as model,
    r ->> '$.model' as model_raw,
    r ->> '$.context_window' as context_window,
    r ->> '$.service_tier' as service_tier,
    r ->> '$.inference_geo' as inference_geo,
    'workspace' as scope_kind,
    coalesce(r ->> '$.workspace_id', 'default') as scope_id,
    case when r ->> '$.cost_type' = 'tokens' then 'metered_tokens' else 'other' end as billing_model,
    'usage' as charge_category,
    r ->> '$.description' as line_item,
    case r ->> '$.token_type'
        when 'uncached_input_tokens' then 'uncached_input'
        when 'cache_read_input_tokens' then 'cache_read'
        when 'cache_creation.ephemeral_5m_input_tokens' then 'cache_write_5m'
        when 'cache_creation.ephemeral_1h_input_tokens' then 'cache_write_1h'
        when 'output_tokens' then 'output'
    end as token_kind,
    currency,
    dollars as amount_original,
    case when currency = 'USD' then 1::decimal(38, 12) end as fx_rate,
    case when currency = 'USD' then dollars end as billed_cost_usd,
    r ->> '$.workspace_id' as key_workspace_id,
    r ->> '$.cost_type' as key_cost_type,
    r ->> '$.token_type' as key_token_type
from validated
"""


def parse(files: Sequence[RawFile]) -> ParseResult:
    """Billed USD per day, workspace and cost line from Anthropic cost-report pages.

    Cents are converted to dollars exactly (DECIMAL(38,12)). A result whose amount is not a number
    is rejected; a page without `amount`/`currency` on a result raises `UnreadableFile`. A re-pull
    of the same day and line replaces the earlier figure.
    """
    if not files:
        return ParseResult.empty()
    con = connect()
    with plain_text_paths(files) as paths:
        open_pages(con, files, paths, start="starting_at", end="ending_at", required=REQUIRED)
    con.execute(SHAPE_SQL)
    return collect(con, KEY_COLUMNS)
