"""The day-by-day API usage simulation: each engineer's active days, spend, model mix and token counts.

Token counts are sized with float prices so a day's list cost lands near the engineer's drawn spend; the
money itself is always recomputed exactly from the counts. Claude Code sessions (`claude_code.py`) reuse
the per-day helpers here for their users' non-session API work.
"""

from __future__ import annotations

from datetime import date
from random import Random

from pipelines.demo.company import (
    CW_BASE,
    CW_LONG,
    GPT5,
    GPT5_MINI,
    GPT41,
    HAIKU,
    OPUS,
    SONNET,
    SURGE_FACTOR,
    Engineer,
)
from pipelines.demo.formats import Ids
from pipelines.demo.landing import ProgressFn
from pipelines.demo.org import Company
from pipelines.demo.prices import PriceBook
from pipelines.demo.usage import Usage


class Simulation:
    """One run's random stream, company, prices and the usage it accumulates."""

    def __init__(self, rng: Random, ids: Ids, company: Company, prices: PriceBook) -> None:
        self.rng = rng
        self.ids = ids
        self.company = company
        self.prices = prices
        self.usage = Usage()

    def active(self, e: Engineer, day: date) -> bool:
        """Whether the engineer works with AI on `day` (employed, then a weekday/weekend draw)."""
        if not e.employed(day):
            return False
        p = e.p_weekday if day.weekday() < 5 else e.p_weekend
        return self.rng.random() < p

    def day_spend(self, e: Engineer, mean: float, day: date) -> float:
        """One day's list USD target around `mean` (times SURGE_FACTOR once a surger surged), capped by the
        engineer's daily ceiling."""
        lo, hi = (0.9, 1.1) if e.steady else (0.3, 1.7)
        if e.surge_from is not None and day >= e.surge_from:
            mean *= SURGE_FACTOR
        return min(mean * self.rng.uniform(lo, hi), e.daily_cap)

    def anth_api_tokens(self, model: str, day: date, cw: str, spend: float, cache_1h: bool) -> list[int]:
        """Aggregated daily API tokens on one model whose list cost is about `spend` USD."""
        rng = self.rng
        long = cw == CW_LONG
        ratios = [
            rng.uniform(0.5, 4.0),
            rng.uniform(40.0, 120.0) if long else rng.uniform(3.0, 25.0),
            rng.uniform(0.2, 1.5),
            rng.uniform(0.0, 0.4) if cache_1h else 0.0,
            1.0,
        ]
        prices = self.prices.floats("anthropic", model, day, cw)
        unit = sum(r * p for r, p in zip(ratios, prices, strict=True)) / 1e6
        out = spend / unit
        tokens = [int(r * out + 0.5) for r in ratios]
        tokens[4] = max(tokens[4], 1)
        return tokens

    @staticmethod
    def model_split(e: Engineer, provider: str) -> list[tuple[str, float]]:
        """The engineer's share of spend per model on one provider."""
        if provider == "anthropic":
            rest = max(0.0, 1.0 - e.opus_share - e.haiku_share)
            return [(SONNET, rest), (OPUS, e.opus_share), (HAIKU, e.haiku_share)]
        rest = max(0.0, 1.0 - e.gpt41_share - e.mini_share)
        return [(GPT5, rest), (GPT5_MINI, e.mini_share), (GPT41, e.gpt41_share)]

    def anth_api_day(self, e: Engineer, day: date, key: str, spend: float) -> None:
        """One engineer's aggregated Anthropic API usage on one key and day, about `spend` list USD."""
        ws = self.company.workspaces[e.team]
        for model, share in self.model_split(e, "anthropic"):
            part = spend * share
            if part < 0.002:
                continue
            parts = [(CW_BASE, part)]
            if model == SONNET and e.long_ctx:
                long_share = 0.3 if e.tokenmaxxer else 0.15
                parts = [(CW_BASE, part * (1 - long_share)), (CW_LONG, part * long_share)]
            for cw, amount in parts:
                tokens = self.anth_api_tokens(model, day, cw, amount, e.cache_1h)
                self.usage.add_anth((day, key, ws, model, cw), tokens)
                self.usage.add_eng_anth(e.eid, day, model, cw, tokens)

    def oai_day(self, e: Engineer, day: date) -> None:
        """One engineer's OpenAI usage on their personal key and day."""
        spend = self.day_spend(e, e.oai_daily, day)
        assert e.oai_key is not None
        for model, share in self.model_split(e, "openai"):
            part = spend * share
            if part < 0.002:
                continue
            row = self.oai_tokens(model, day, part)
            self.usage.add_oai((day, self.company.projects[e.team], e.oai_user, e.oai_key, model), row)
            acc = self.usage.eng_oai.setdefault((e.eid, day, model), [0, 0, 0])
            acc[0] += row[3]
            acc[1] += row[1]
            acc[2] += row[4]

    def oai_tokens(self, model: str, day: date, spend: float) -> list[int]:
        """[input, cached, cache write, uncached, output, requests] whose list cost is about `spend`."""
        rng = self.rng
        in_ratio = rng.uniform(3.0, 15.0)
        cached_frac = rng.uniform(0.1, 0.5) if model == GPT41 else rng.uniform(0.3, 0.85)
        p_in, p_cached, p_out = self.prices.floats("openai", model, day)
        unit = (in_ratio * ((1 - cached_frac) * p_in + cached_frac * p_cached) + p_out) / 1e6
        out = max(1, int(spend / unit + 0.5))
        inp = max(1, int(out * in_ratio + 0.5))
        cached = int(inp * cached_frac)
        requests = max(1, inp // rng.randint(6_000, 30_000))
        return [inp, cached, 0, inp - cached, out, requests]


def simulate_api(sim: Simulation, progress: ProgressFn | None = None) -> None:
    """Daily API usage of engineers (Claude Code users excepted) and of the unknown keys."""
    company = sim.company
    days = company.window.days
    total = len(company.engs)
    for n_done, e in enumerate(company.engs, start=1):
        for day in days:
            if e.cc or not (e.uses_anthropic or e.uses_openai) or not sim.active(e, day):
                continue
            if e.uses_anthropic:
                assert e.anth_key is not None
                sim.anth_api_day(e, day, e.anth_key, sim.day_spend(e, e.anth_daily, day))
            if e.uses_openai:
                sim.oai_day(e, day)
        if progress is not None:
            progress("usage", n_done, total)

    rng, usage = sim.rng, sim.usage
    bot, stray = company.anth_unknown
    obot, ostray = company.oai_unknown
    for i, day in enumerate(days):
        for model, lo, hi in ((HAIKU, 4.0, 14.0), (SONNET, 3.0, 12.0)):
            tokens = sim.anth_api_tokens(model, day, CW_BASE, rng.uniform(lo, hi), False)
            usage.add_anth((day, bot, company.workspaces[0], model, CW_BASE), tokens)
        if i == 0 or rng.random() < 0.3:
            tokens = sim.anth_api_tokens(SONNET, day, CW_BASE, rng.uniform(1.0, 10.0), False)
            usage.add_anth((day, stray, None, SONNET, CW_BASE), tokens)
        for model, lo, hi in ((GPT5_MINI, 2.0, 8.0), (GPT41, 1.0, 6.0)):
            usage.add_oai((day, company.ci_project, None, obot, model), sim.oai_tokens(model, day, rng.uniform(lo, hi)))
        if i == 0 or rng.random() < 0.4:
            row = sim.oai_tokens(GPT5, day, rng.uniform(2.0, 8.0))
            usage.add_oai((day, company.projects[-1], None, ostray, GPT5), row)
