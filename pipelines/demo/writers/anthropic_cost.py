"""Writer of `anthropic_cost`: Admin API cost report pages, Anthropic's bill (amounts in cents, as text).

Each usage row group (workspace × model × window) bills one line per token type: list cost less the
Anthropic discount, exactly. The sum of these lines is the bill the pipeline must tie out to.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from pipelines.demo.company import (
    ANTHROPIC_DESCRIPTION,
    ANTHROPIC_KEEP,
    ANTHROPIC_MODELS,
    ANTHROPIC_TOKEN_TYPES,
    CW_LONG,
)
from pipelines.demo.formats import chunks, dec_text, rfc3339
from pipelines.demo.landing import Landing
from pipelines.demo.prices import list_cost
from pipelines.demo.usage import daily_rows
from pipelines.demo.writers.base import Billed, PageProgress, World
from pipelines.demo.writers.pages import PAGE_LIMIT, anthropic_cursor

SOURCE = "anthropic_cost"


def write(world: World, landing: Landing, progress: PageProgress | None = None) -> Billed:
    """One `cost_report_NNNN.json` page per seven days; returns Anthropic's list and billed totals."""
    days = world.company.window.days
    by_day = daily_rows(world.usage.anth, days)
    page_days = list(chunks(days, PAGE_LIMIT))
    pages: list[dict[str, Any]] = []
    list_total = Decimal(0)
    billed_total = Decimal(0)
    billed_by_day: dict[str, str] = {}
    n_cost = 0
    for ci, chunk in enumerate(page_days):
        buckets: list[dict[str, Any]] = []
        for day in chunk:
            # billed lines: aggregate usage rows by (workspace, model, context window) × token type
            agg: dict[tuple[str | None, str, str], list[int]] = {}
            for k, v in by_day[day]:
                acc = agg.setdefault((k[2], k[3], k[4]), [0, 0, 0, 0, 0])
                for i in range(5):
                    acc[i] += v[i]
            day_billed = Decimal(0)
            results: list[dict[str, Any]] = []
            for (ws, model, cw), tok in sorted(agg.items(), key=lambda kv: (kv[0][0] or "", kv[0][1], kv[0][2])):
                prices = world.prices.anthropic(model, day, cw)
                for i, token_type in enumerate(ANTHROPIC_TOKEN_TYPES):
                    if tok[i] == 0:
                        continue
                    line_list = list_cost([tok[i]], [prices[i]])
                    billed = line_list * ANTHROPIC_KEEP
                    cents = billed * 100
                    list_total += line_list
                    day_billed += billed
                    desc = f"{ANTHROPIC_MODELS[model]} Usage - {ANTHROPIC_DESCRIPTION[i]}"
                    if cw == CW_LONG:
                        desc += ", Long Context"
                    results.append(
                        {
                            "amount": dec_text(cents),
                            "context_window": cw,
                            "cost_type": "tokens",
                            "currency": "USD",
                            "description": desc,
                            "inference_geo": None,
                            "model": model,
                            "service_tier": "standard",
                            "token_type": token_type,
                            "workspace_id": ws,
                        }
                    )
            n_cost += len(results)
            billed_total += day_billed
            billed_by_day[day.isoformat()] = dec_text(day_billed)
            buckets.append(
                {"starting_at": rfc3339(day), "ending_at": rfc3339(day + timedelta(days=1)), "results": results}
            )
        last = ci == len(page_days) - 1
        cursor = None if last else anthropic_cursor(page_days[ci + 1][0])
        pages.append({"data": buckets, "has_more": not last, "next_page": cursor})
        if progress is not None:
            progress(ci + 1, len(page_days))
    landing.pages(SOURCE, "cost_report", pages)
    landing.rows[SOURCE] = n_cost
    return Billed(provider="anthropic", list_usd=list_total, billed_usd=billed_total, by_day=billed_by_day)
