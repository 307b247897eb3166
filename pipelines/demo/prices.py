"""List prices for the demo's usage, exact, from the pinned genai-prices data, per UTC day of use."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal, localcontext

from genai_prices import Usage, calc_price

from pipelines.demo.company import CW_BASE, CW_LONG

_MILLION = Decimal(1_000_000)


class PriceBook:
    """Per-MTok list prices per token kind, by model, UTC day and context window."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str, date, str], tuple[Decimal, ...]] = {}

    @staticmethod
    def _total(provider: str, model: str, day: date, **tokens: int) -> Decimal:
        when = datetime(day.year, day.month, day.day, tzinfo=UTC)
        calc = calc_price(Usage(**tokens), model, provider_id=provider, genai_request_timestamp=when)
        return Decimal(calc.total_price)

    def anthropic(self, model: str, day: date, cw: str) -> tuple[Decimal, ...]:
        """(uncached, cache read, cache write 5m, cache write 1h, output) USD per MTok."""
        key = ("anthropic", model, day, cw)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        # 100k input stays under every long-context threshold; 300k input crosses the 200k tier.
        n = 300_000 if cw == CW_LONG else 100_000
        t = self._total
        with localcontext() as ctx:
            ctx.prec = 60
            plain = t("anthropic", model, day, input_tokens=n)
            prices = (
                plain,
                t("anthropic", model, day, input_tokens=n, cache_read_tokens=n),
                t("anthropic", model, day, input_tokens=n, cache_write_tokens=n, cache_write_5m_tokens=n),
                t("anthropic", model, day, input_tokens=n, cache_write_tokens=n, cache_write_1h_tokens=n),
                t("anthropic", model, day, input_tokens=n, output_tokens=n) - plain,
            )
            out = tuple((p * _MILLION / n).normalize() for p in prices)
        self._cache[key] = out
        return out

    def openai(self, model: str, day: date) -> tuple[Decimal, ...]:
        """(uncached input, cached input, output) USD per MTok."""
        key = ("openai", model, day, CW_BASE)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        n = 100_000
        t = self._total
        with localcontext() as ctx:
            ctx.prec = 60
            plain = t("openai", model, day, input_tokens=n)
            prices = (
                plain,
                t("openai", model, day, input_tokens=n, cache_read_tokens=n),
                t("openai", model, day, input_tokens=n, output_tokens=n) - plain,
            )
            out = tuple((p * _MILLION / n).normalize() for p in prices)
        self._cache[key] = out
        return out

    def floats(self, provider: str, model: str, day: date, cw: str = CW_BASE) -> list[float]:
        """The same prices as floats, used only to size simulated token counts (never for money)."""
        if provider == "anthropic":
            return [float(p) for p in self.anthropic(model, day, cw)]
        return [float(p) for p in self.openai(model, day)]


def list_cost(tokens: Sequence[int], prices: Sequence[Decimal]) -> Decimal:
    """Exact list cost: Σ tokens × price per MTok ÷ 1e6."""
    with localcontext() as ctx:
        ctx.prec = 60
        total = sum((Decimal(t) * p for t, p in zip(tokens, prices, strict=True)), Decimal(0))
        return total.scaleb(-6)
