"""The alerts a demo run must raise, from the simulation's own usage (never from the warehouse).

Each engineer's spend on a day is their list cost times what the provider's bill keeps (1 - discount): the
bill is list minus a known discount, allocated back in proportion to list cost, so that is the spend the
warehouse books, to within rounding of 10^-12 dollars. Rules and thresholds are the default `[alerts]` rules.
The run rate of a month is the spend of the trailing 90 days ending at its last day with data, over the days
of those 90 the engineer was employed, times 365. The band is the generator's own, by the documented rule
(docs/salaries.md, "Matching"): `pay.base_medians` gives the company's median base for the level at the
location, else the country, else company-wide; a month with a promotion weights each level's base by the
days employed at it. The roles are sized so that no engineer comes near a threshold (tokenmaxxers 1.7-2.5
times base, heavy users 0.7-0.8, everyone else under 0.4; surgers 5 times their previous month), so a band
the warehouse finds a few percent away from this one raises the same alerts.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from pipelines.config import DEFAULT_ALERT_RULES
from pipelines.demo.company import ANTHROPIC_KEEP, OPENAI_KEEP, Engineer
from pipelines.demo.org import Company
from pipelines.demo.prices import list_cost
from pipelines.demo.writers.base import World

RUN_RATE_DAYS = 90


def daily_spend(world: World) -> dict[str, dict[date, Decimal]]:
    """Each engineer's spend per day: list cost of the tokens they ran, times what each bill keeps."""
    out: dict[str, dict[date, Decimal]] = {e.eid: {} for e in world.company.engs}
    for (eid, day, model, cw), tok in world.usage.eng_anth.items():
        cost = list_cost(tok, world.prices.anthropic(model, day, cw)) * ANTHROPIC_KEEP
        out[eid][day] = out[eid].get(day, Decimal(0)) + cost
    for (eid, day, model), tok in world.usage.eng_oai.items():
        cost = list_cost(tok, world.prices.openai(model, day)) * OPENAI_KEEP
        out[eid][day] = out[eid].get(day, Decimal(0)) + cost
    return out


def month_base(company: Company, e: Engineer, employed: list[date]) -> Decimal:
    """The base p50 an engineer is measured against in a month: each level's band base weighted by the days
    employed at it (`employed`: the month's days of the window the engineer was on the roster)."""
    return sum((Decimal(str(company.band_base_p50(e, d))) for d in employed), Decimal(0)) / len(employed)


def expected_alerts(world: World) -> dict[str, list[str]]:
    """Per default rule, the engineers it must raise in some month of the window (sorted ids)."""
    company = world.company
    days = company.window.days
    spend = daily_spend(world)
    months = sorted({d.replace(day=1) for d in days})
    fired: dict[str, set[str]] = {r.rule: set() for r in DEFAULT_ALERT_RULES}
    for e in company.engs:
        previous: tuple[Decimal, int] | None = None
        for month in months:
            in_month = [d for d in days if d.replace(day=1) == month]
            employed = [d for d in in_month if e.employed(d)]
            if not employed:
                previous = None
                continue
            end = in_month[-1]
            window = [d for d in days if end - timedelta(days=RUN_RATE_DAYS - 1) <= d <= end and e.employed(d)]
            run_rate = sum((spend[e.eid].get(d, Decimal(0)) for d in window), Decimal(0)) * 365 / len(window)
            base = month_base(company, e, employed)
            month_spend = sum((spend[e.eid].get(d, Decimal(0)) for d in employed), Decimal(0))
            for rule in DEFAULT_ALERT_RULES:
                threshold = Decimal(rule.threshold)
                if rule.kind == "run_rate_share_of_base" and run_rate >= threshold * base:
                    fired[rule.rule].add(e.eid)
                if rule.kind == "month_over_month" and previous is not None:
                    before, before_days = previous
                    floor = Decimal(rule.min_previous_usd or 0)
                    if (
                        before > 0
                        and before >= floor
                        and month_spend * before_days >= threshold * before * len(employed)
                    ):
                        fired[rule.rule].add(e.eid)
            previous = (month_spend, len(employed))
    return {rule: sorted(ids) for rule, ids in fired.items()}
