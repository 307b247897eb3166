"""Anthropic Admin API messages usage report (`GET /v1/organizations/usage_report/messages`).

Tokens per time bucket and group (account, API key, workspace, model, tier, ...). This is the
metered token source for Anthropic; it carries no money. Anthropic reports the input kinds apart
(uncached, cache read, 5-minute and 1-hour cache writes), so nothing is subtracted.
"""

from __future__ import annotations

from collections.abc import Sequence

from transforms.common import ParseResult, RawFile, connect, plain_text_paths
from transforms.sources._pages import collect, open_pages

SOURCE = "anthropic_usage"

REQUIRED: tuple[str, ...] = ("uncached_input_tokens", "cache_read_input_tokens", "output_tokens")

# The natural key: bucket start plus every group dimension as reported (nulls kept distinct).
KEY_COLUMNS: tuple[str, ...] = (
    "period_start",
    "key_account_id",
    "key_api_key_id",
    "key_service_account_id",
    "key_workspace_id",
    "model_raw",
    "service_tier",
    "context_window",
    "inference_geo",
    "speed",
)

SHAPE_SQL = """
create or replace temp table checked as
with validated as (
    select
        delivery, ordinal, period_start, period_end, r,
        first_problem([
            int_check(r, 'uncached_input_tokens', false),
            int_check(r, 'cache_read_input_tokens', false),
            int_check(r, 'cache_creation.ephemeral_5m_input_tokens', true),
            int_check(r, 'cache_creation.ephemeral_1h_input_tokens', true),
            int_check(r, 'output_tokens', false)
        ]) as problem
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
    'anthropic_usage' as source,
    'anthropic' as provider,
    'anthropic' as publisher,
    r ->> '$.model' as model,
    r ->> '$.model' as model_raw,
    r ->> '$.context_window' as context_window,
    r ->> '$.service_tier' as service_tier,
    r ->> '$.inference_geo' as inference_geo,
    r ->> '$.speed' as speed,
    case
        when r ->> '$.account_id' is not null then 'anthropic_account_id'
        when r ->> '$.api_key_id' is not null then 'api_key_id'
        when r ->> '$.service_account_id' is not null then 'service_account_id'
    end as principal_kind,
    coalesce(r ->> '$.account_id', r ->> '$.api_key_id', r ->> '$.service_account_id') as principal_id,
    'workspace' as scope_kind,
    coalesce(r ->> '$.workspace_id', 'default') as scope_id,
    int_value(r, '$.uncached_input_tokens') as uncached_input_tokens,
    int_value(r, '$.cache_read_input_tokens') as cache_read_tokens,
    int_value(r, '$.cache_creation.ephemeral_5m_input_tokens') as cache_write_5m_tokens,
    int_value(r, '$.cache_creation.ephemeral_1h_input_tokens') as cache_write_1h_tokens,
    int_value(r, '$.output_tokens') as output_tokens,
    'metered_tokens' as billing_model,
    'usage' as charge_category,
    r ->> '$.account_id' as key_account_id,
    r ->> '$.api_key_id' as key_api_key_id,
    r ->> '$.service_account_id' as key_service_account_id,
    r ->> '$.workspace_id' as key_workspace_id
from validated
"""


def parse(files: Sequence[RawFile]) -> ParseResult:
    """Token usage per bucket and group from Anthropic usage-report pages, one row per natural key.

    A result with invalid token counts is rejected (and counted); a page that is not a usage report
    page raises `UnreadableFile`. A re-pull of the same bucket and group replaces the earlier one.
    """
    if not files:
        return ParseResult.empty()
    con = connect()
    with plain_text_paths(files) as paths:
        open_pages(con, files, paths, start="starting_at", end="ending_at", required=REQUIRED)
    con.execute(SHAPE_SQL)
    return collect(con, KEY_COLUMNS)
