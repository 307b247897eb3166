"""OpenAI Costs API (`GET /v1/organization/costs`).

Billed dollars per day, project and line item. `amount.value` is a JSON number in DOLLARS that
may carry binary-float noise (0.8023212500000001); it is read through its decimal text and
rounded once at 12 places, never through a binary float cast.
"""

from __future__ import annotations

from collections.abc import Sequence

from transforms.common import ParseResult, RawFile, connect, plain_text_paths
from transforms.sources._pages import collect, open_pages

SOURCE = "openai_costs"

REQUIRED: tuple[str, ...] = ("amount.value", "amount.currency")

# The natural key: bucket start + project + line item + API key (nulls kept distinct).
KEY_COLUMNS: tuple[str, ...] = ("period_start", "key_project_id", "line_item", "key_api_key_id")

# Lines whose quantity is counted in tokens are token spend (`metered_tokens`); the rest is `other`.
SHAPE_SQL = """
create or replace temp table checked as
with validated as (
    select
        delivery, ordinal, period_start, period_end, r,
        first_problem([
            money_check(r, 'amount.value', false),
            string_check(r, 'amount.currency', false),
            decimal_check(r, 'quantity', true)
        ]) as problem,
        decimal_value(r, '$.amount.value') as dollars,
        upper(r ->> '$.amount.currency') as currency
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
    'openai_costs' as source,
    'openai' as provider,
    case when r ->> '$.api_key_id' is not null then 'api_key_id' end as principal_kind,
    r ->> '$.api_key_id' as principal_id,
    'project' as scope_kind,
    coalesce(r ->> '$.project_id', 'default') as scope_id,
    decimal_value(r, '$.quantity') as quantity,
    r ->> '$.quantity_unit' as unit,
    case
        when r ->> '$.quantity_unit' in ('tokens', '1000_tokens') then 'metered_tokens'
        else 'other'
    end as billing_model,
    'usage' as charge_category,
    r ->> '$.line_item' as line_item,
    currency,
    dollars as amount_original,
    case when currency = 'USD' then 1::decimal(38, 12) end as fx_rate,
    case when currency = 'USD' then dollars end as billed_cost_usd,
    r ->> '$.project_id' as key_project_id,
    r ->> '$.api_key_id' as key_api_key_id
from validated
"""


def parse(files: Sequence[RawFile]) -> ParseResult:
    """Billed USD per day, project and line item from OpenAI costs pages.

    Dollar amounts are exact decimals (DECIMAL(38,12)). A result whose amount is not a number is
    rejected; a page missing `amount.value`/`amount.currency` on a result raises `UnreadableFile`.
    A re-pull of the same day, project and line item replaces the earlier figure.
    """
    if not files:
        return ParseResult.empty()
    con = connect()
    with plain_text_paths(files) as paths:
        open_pages(con, files, paths, start="start_time", end="end_time", required=REQUIRED)
    con.execute(SHAPE_SQL)
    return collect(con, KEY_COLUMNS)
