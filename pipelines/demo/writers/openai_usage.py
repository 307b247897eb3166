"""Writer of `openai_usage`: Usage API completions pages, grouped by project, user, key and model.

`input_tokens` includes cached and cache-write tokens, as OpenAI reports them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pipelines.demo.formats import chunks, unix
from pipelines.demo.landing import Landing
from pipelines.demo.usage import daily_rows
from pipelines.demo.writers.base import PageProgress, World
from pipelines.demo.writers.pages import PAGE_LIMIT, openai_cursor

SOURCE = "openai_usage"


def write(world: World, landing: Landing, progress: PageProgress | None = None) -> None:
    """One `usage_completions_NNNN.json` page per seven days of OpenAI usage."""
    days = world.company.window.days
    by_day = daily_rows(world.usage.oai, days)
    page_days = list(chunks(days, PAGE_LIMIT))
    pages: list[dict[str, Any]] = []
    n_rows = 0
    for ci, chunk in enumerate(page_days):
        buckets: list[dict[str, Any]] = []
        for day in chunk:
            results = [
                {
                    "object": "organization.usage.completions.result",
                    "input_tokens": v[0],
                    "input_cached_tokens": v[1],
                    "input_cache_write_tokens": v[2],
                    "input_uncached_tokens": v[3],
                    "output_tokens": v[4],
                    "input_text_tokens": v[0],
                    "output_text_tokens": v[4],
                    "input_cached_text_tokens": v[1],
                    "input_audio_tokens": 0,
                    "input_cached_audio_tokens": 0,
                    "output_audio_tokens": 0,
                    "input_image_tokens": 0,
                    "input_cached_image_tokens": 0,
                    "output_image_tokens": 0,
                    "num_model_requests": v[5],
                    "project_id": k[1],
                    "user_id": k[2],
                    "api_key_id": k[3],
                    "model": k[4],
                    "batch": None,
                    "service_tier": None,
                }
                for k, v in by_day[day]
            ]
            n_rows += len(results)
            start, stop = unix(day), unix(day + timedelta(days=1))
            buckets.append({"object": "bucket", "start_time": start, "end_time": stop, "results": results})
        last = ci == len(page_days) - 1
        cursor = None if last else openai_cursor(page_days[ci + 1][0], 1)
        pages.append({"object": "page", "data": buckets, "has_more": not last, "next_page": cursor})
        if progress is not None:
            progress(ci + 1, len(page_days))
    landing.pages(SOURCE, "usage_completions", pages)
    landing.rows[SOURCE] = n_rows
