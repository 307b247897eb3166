"""Writer of `openai_costs`: Costs API pages, OpenAI's bill per project and line item (amounts as JSON numbers).

Each (project, model) bills uncached input, cached input and output lines: list cost less the OpenAI
discount, rounded half-even to 10 places as OpenAI's amounts are. Their sum is the bill to tie out to.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from typing import Any

from pipelines.demo.company import OPENAI_KEEP, OPENAI_LINE_SUFFIX
from pipelines.demo.formats import DEC_MARK, chunks, dec_text, unix
from pipelines.demo.landing import Landing
from pipelines.demo.prices import list_cost
from pipelines.demo.usage import daily_rows
from pipelines.demo.writers.base import Billed, PageProgress, World
from pipelines.demo.writers.pages import PAGE_LIMIT, openai_cursor

SOURCE = "openai_costs"
_TEN_DP = Decimal("1e-10")


def write(world: World, landing: Landing, progress: PageProgress | None = None) -> Billed:
    """One `costs_NNNN.json` page per seven days; returns OpenAI's list and billed totals."""
    days = world.company.window.days
    by_day = daily_rows(world.usage.oai, days)
    page_days = list(chunks(days, PAGE_LIMIT))
    pages: list[dict[str, Any]] = []
    list_total = Decimal(0)
    billed_total = Decimal(0)
    billed_by_day: dict[str, str] = {}
    n_cost = 0
    for ci, chunk in enumerate(page_days):
        buckets: list[dict[str, Any]] = []
        for day in chunk:
            agg: dict[tuple[str, str], list[int]] = {}
            for k, v in by_day[day]:
                acc = agg.setdefault((k[1], k[4]), [0, 0, 0])
                acc[0] += v[3] + v[2]  # cache writes bill at the input rate (always 0 here)
                acc[1] += v[1]
                acc[2] += v[4]
            day_billed = Decimal(0)
            results: list[dict[str, Any]] = []
            for (project, model), tok in sorted(agg.items()):
                prices = world.prices.openai(model, day)
                for i, suffix in enumerate(OPENAI_LINE_SUFFIX):
                    if tok[i] == 0:
                        continue
                    line_list = list_cost([tok[i]], [prices[i]])
                    with localcontext() as ctx:
                        ctx.prec = 60
                        billed = (line_list * OPENAI_KEEP).quantize(_TEN_DP, rounding=ROUND_HALF_EVEN)
                    list_total += line_list
                    day_billed += billed
                    text = dec_text(billed)
                    if "." not in text:
                        text += ".0"
                    results.append(
                        {
                            "object": "organization.costs.result",
                            "amount": {"value": DEC_MARK + text, "currency": "usd"},
                            "line_item": f"{model}, {suffix}",
                            "project_id": project,
                            "api_key_id": None,
                            "quantity": tok[i],
                            "quantity_unit": "tokens",
                        }
                    )
            n_cost += len(results)
            billed_total += day_billed
            billed_by_day[day.isoformat()] = dec_text(day_billed)
            start, stop = unix(day), unix(day + timedelta(days=1))
            buckets.append({"object": "bucket", "start_time": start, "end_time": stop, "results": results})
        last = ci == len(page_days) - 1
        cursor = None if last else openai_cursor(page_days[ci + 1][0], 2)
        pages.append({"object": "page", "data": buckets, "has_more": not last, "next_page": cursor})
        if progress is not None:
            progress(ci + 1, len(page_days))
    landing.pages(SOURCE, "costs", pages)
    landing.rows[SOURCE] = n_cost
    return Billed(provider="openai", list_usd=list_total, billed_usd=billed_total, by_day=billed_by_day)
