"""Writer of `anthropic_usage`: Admin API messages usage report pages, grouped by key, workspace, model, window."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pipelines.demo.formats import chunks, rfc3339
from pipelines.demo.landing import Landing
from pipelines.demo.usage import daily_rows
from pipelines.demo.writers.base import PageProgress, World
from pipelines.demo.writers.pages import PAGE_LIMIT, anthropic_cursor

SOURCE = "anthropic_usage"


def write(world: World, landing: Landing, progress: PageProgress | None = None) -> None:
    """One `usage_report_messages_NNNN.json` page per seven days of Anthropic usage."""
    days = world.company.window.days
    by_day = daily_rows(world.usage.anth, days)
    page_days = list(chunks(days, PAGE_LIMIT))
    pages: list[dict[str, Any]] = []
    n_rows = 0
    for ci, chunk in enumerate(page_days):
        buckets: list[dict[str, Any]] = []
        for day in chunk:
            results = [
                {
                    "account_id": None,
                    "api_key_id": k[1],
                    "cache_creation": {"ephemeral_1h_input_tokens": v[3], "ephemeral_5m_input_tokens": v[2]},
                    "cache_read_input_tokens": v[1],
                    "context_window": k[4],
                    "inference_geo": None,
                    "model": k[3],
                    "output_tokens": v[4],
                    "server_tool_use": {"web_search_requests": 0},
                    "service_account_id": None,
                    "service_tier": None,
                    "speed": None,
                    "uncached_input_tokens": v[0],
                    "workspace_id": k[2],
                }
                for k, v in by_day[day]
            ]
            n_rows += len(results)
            buckets.append(
                {"starting_at": rfc3339(day), "ending_at": rfc3339(day + timedelta(days=1)), "results": results}
            )
        last = ci == len(page_days) - 1
        cursor = None if last else anthropic_cursor(page_days[ci + 1][0])
        pages.append({"data": buckets, "has_more": not last, "next_page": cursor})
        if progress is not None:
            progress(ci + 1, len(page_days))
    landing.pages(SOURCE, "usage_report_messages", pages)
    landing.rows[SOURCE] = n_rows
