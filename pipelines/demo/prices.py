"""List prices for the demo's usage, read from the project's one price table (`transforms.pricing`).

The demo prices what it simulates exactly as the pipeline will: the pinned genai-prices catalog's
standard-tier price in force on the UTC day of use, at the long-context tier for the `200k-1M` window.
Prices are normalized decimals, so the amounts and their text are the same as genai-prices' own.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal, localcontext
from typing import Any

import polars as pl

from pipelines.demo.company import CW_BASE, CW_LONG
from transforms.pricing import PRICE_VERSION, match_models, price_table
from transforms.schema import TOKEN_KINDS

_OPENAI_KINDS = ("uncached_input", "cache_read", "output")


class PriceBook:
    """Per-MTok list prices per token kind, by model, UTC day and context window."""

    def __init__(self) -> None:
        self._rows: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._cache: dict[tuple[str, str, date, str], tuple[Decimal, ...]] = {}

    def _row(self, provider: str, model: str, day: date) -> dict[str, Any]:
        """The standard-tier price row of a raw model name in force on `day`."""
        rows = self._rows.get((provider, model))
        if rows is None:
            model_id = match_models([(provider, model)]).item(0, "model_id")
            if model_id is None:
                raise ValueError(f"demo model {provider}/{model} is not in {PRICE_VERSION}")
            rows = (
                price_table()
                .filter(
                    (pl.col("provider") == provider)
                    & (pl.col("model") == model_id)
                    & pl.col("service_tier").is_null()
                    & pl.col("speed").is_null()
                )
                .to_dicts()
            )
            self._rows[(provider, model)] = rows
        for row in rows:
            if row["effective_from"] <= day and (row["effective_to"] is None or day < row["effective_to"]):
                return row
        raise ValueError(f"{PRICE_VERSION} has no price for {provider}/{model} on {day}")

    def _prices(self, provider: str, model: str, day: date, cw: str, kinds: Sequence[str]) -> tuple[Decimal, ...]:
        key = (provider, model, day, cw)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        row = self._row(provider, model, day)
        prefix = "tier_" if cw == CW_LONG and row["tier_threshold"] is not None else ""
        out = tuple(Decimal(row[f"{prefix}{kind}_mtok"]).normalize() for kind in kinds)
        self._cache[key] = out
        return out

    def anthropic(self, model: str, day: date, cw: str) -> tuple[Decimal, ...]:
        """(uncached, cache read, cache write 5m, cache write 1h, output) USD per MTok."""
        return self._prices("anthropic", model, day, cw, TOKEN_KINDS)

    def openai(self, model: str, day: date) -> tuple[Decimal, ...]:
        """(uncached input, cached input, output) USD per MTok."""
        return self._prices("openai", model, day, CW_BASE, _OPENAI_KINDS)

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
