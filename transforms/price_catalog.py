"""The price catalog: an effective-dated list price table from genai-prices' bundled data, per provider we
ingest (the registry's catalog providers), model, service tier, speed and period. How it is derived, and
how overrides and usage use it, is described in `transforms.pricing`.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time
from decimal import Decimal
from importlib.metadata import version

import polars as pl
from genai_prices import Usage, data_snapshot
from genai_prices.types import ModelInfo, ModelPrice, StartDateConstraint, TieredPrices

from transforms.schema import PRICE, TOKEN_KINDS
from transforms.sources import catalog_providers

PRICE_VERSION = f"genai-prices {version('genai-prices')}"

EPOCH = date(1970, 1, 1)
_MILLION = Decimal(1_000_000)
PRICE_PLACES = Decimal("0.000000001")  # PRICE is DECIMAL(18,9)
PRICE_COLUMNS: tuple[str, ...] = tuple(f"{kind}_mtok" for kind in TOKEN_KINDS)
TIER_COLUMNS: tuple[str, ...] = tuple(f"tier_{kind}_mtok" for kind in TOKEN_KINDS)

PRICE_TABLE_SCHEMA = pl.Schema(
    {
        "provider": pl.String,
        "model": pl.String,
        "service_tier": pl.String,
        "speed": pl.String,
        "effective_from": pl.Date,
        "effective_to": pl.Date,
        **dict.fromkeys(PRICE_COLUMNS, PRICE),
        "tier_threshold": pl.Int64,
        **dict.fromkeys(TIER_COLUMNS, PRICE),
        "price_version": pl.String,
    }
)


def price_context(service_tier: str | None, speed: str | None = None) -> dict[str, str] | None:
    """The genai-prices request context for a usage row's service tier and speed; None is the standard price."""
    context: dict[str, str] = {}
    if service_tier == "batch":
        context["processing"] = "batch"
    elif service_tier:
        context["service_tier"] = service_tier
    if speed:
        context["speed"] = speed
    return context or None


# --- the catalog -------------------------------------------------------------------------------------------


def _probe(price: ModelPrice, kind: str, input_tokens: int) -> Decimal:
    """Price per million tokens of one kind, asking genai-prices to price `input_tokens` of it."""
    n = input_tokens
    usages = {
        "uncached_input": Usage(input_tokens=n),
        "cache_read": Usage(input_tokens=n, cache_read_tokens=n),
        "cache_write_5m": Usage(input_tokens=n, cache_write_tokens=n, cache_write_5m_tokens=n),
        "cache_write_1h": Usage(input_tokens=n, cache_write_tokens=n, cache_write_1h_tokens=n),
    }
    if kind == "output":
        with_out = price.calc_price(Usage(input_tokens=n, output_tokens=n))["total_price"]
        without = price.calc_price(Usage(input_tokens=n))["total_price"]
        return (with_out - without) * _MILLION / n
    return price.calc_price(usages[kind])["total_price"] * _MILLION / n


def _tier_threshold(price: ModelPrice, model_id: str) -> int | None:
    """The input-token count above which the long-context tier applies; the table holds one tier per price."""
    starts = {tier.start for v in vars(price).values() if isinstance(v, TieredPrices) for tier in v.tiers}
    if len(starts) > 1:
        raise ValueError(f"{PRICE_VERSION}: {model_id} has tiers starting at {sorted(starts)}; expected one")
    return starts.pop() if starts else None


def _price_columns(price: ModelPrice, model_id: str) -> dict[str, object]:
    """One price row's money columns: each token kind per million, at the base tier and above the threshold."""
    threshold = _tier_threshold(price, model_id)
    row: dict[str, object] = {"tier_threshold": threshold}
    for kind in TOKEN_KINDS:
        row[f"{kind}_mtok"] = _probe(price, kind, 1)
        row[f"tier_{kind}_mtok"] = _probe(price, kind, threshold + 1) if threshold is not None else None
    return row


def _dated(model: ModelInfo) -> ModelInfo | None:
    """The model with start-date constraints only: a daily join cannot choose a time-of-day price."""

    def by_date(constraint: object) -> bool:
        return constraint is None or isinstance(constraint, StartDateConstraint)

    prices = (
        model.prices if isinstance(model.prices, ModelPrice) else [c for c in model.prices if by_date(c.constraint)]
    )
    variants = [v for v in model.price_variants or () if by_date(v.constraint)]
    if not prices:
        return None
    return dataclasses.replace(model, prices=prices, price_variants=variants)


def _starts(model: ModelInfo) -> list[date]:
    """Every date on which a price or price variant of the model starts, from the epoch on."""
    constraints = [c.constraint for c in model.prices] if isinstance(model.prices, list) else []
    constraints += [v.constraint for v in model.price_variants or ()]
    return sorted({EPOCH} | {c.start_date for c in constraints if isinstance(c, StartDateConstraint)})


def _contexts(model: ModelInfo) -> list[tuple[str | None, str | None]]:
    """Every (service tier, speed) the model's price variants name: standard first, then single, then both."""
    tiers: set[str] = set()
    speeds: set[str] = set()
    for variant in model.price_variants or ():
        for key, value in variant.when.items():
            if key == "processing" and value == "batch":
                tiers.add("batch")
            elif key == "service_tier":
                tiers.add(value)
            elif key == "speed":
                speeds.add(value)
    pairs = [(t, s) for t in [None, *sorted(tiers)] for s in [None, *sorted(speeds)]]
    return sorted(pairs, key=lambda pair: (pair[0] is not None) + (pair[1] is not None))


def _model_rows(
    model: ModelInfo, columns: Callable[[ModelPrice], dict[str, object]]
) -> Iterator[tuple[str | None, str | None, date, date | None, dict[str, object]]]:
    """(tier, speed, from, to, money columns) for each run of days a model has one price in one context.

    A context gets rows only on days its price differs from what the join would fall back to: the row of its
    tier, else of its speed, else the standard price (the lookup order of `sql/price_usage.sql`).
    """
    starts = _starts(model)
    contexts = _contexts(model)
    stored: list[dict[tuple[str | None, str | None], ModelPrice]] = []
    for start in starts:
        when = datetime.combine(start, time(), UTC)
        day: dict[tuple[str | None, str | None], ModelPrice] = {}
        for tier, speed in contexts:
            price = model.get_prices(when, price_context(tier, speed))
            fallback = day.get((tier, None)) or day.get((None, speed)) or day.get((None, None))
            if price != fallback:
                day[(tier, speed)] = price
        stored.append(day)
    for context in contexts:
        run: tuple[date, ModelPrice] | None = None
        for start, day in zip(starts, stored, strict=True):
            price = day.get(context)
            if run is not None and price != run[1]:
                yield *context, run[0], start, columns(run[1])
                run = None
            if price is not None and run is None:
                run = (start, price)
        if run is not None:
            yield *context, run[0], None, columns(run[1])


@functools.cache
def price_table() -> pl.DataFrame:
    """The effective-dated list price table for every catalog model of the providers we ingest.

    One row per (provider, model, service tier, speed, period): per-million prices of each token kind at the
    base tier and, for long-context models, above `tier_threshold` input tokens. Null tier and speed is the
    standard price; other rows exist only where the catalog charges a tier or speed differently.
    """
    ours = {catalog: provider for provider, catalog in catalog_providers().items()}
    providers = [p for p in data_snapshot.get_snapshot().providers if p.id in ours]
    probed: dict[str, dict[str, object]] = {}
    rows: list[dict[str, object]] = []
    for provider in providers:
        for model in provider.models:
            dated = _dated(model)
            if dated is None:
                continue

            def columns(price: ModelPrice, model_id: str = model.id) -> dict[str, object]:
                key = repr(price)
                if key not in probed:
                    probed[key] = _price_columns(price, model_id)
                return probed[key]

            for tier, speed, start, end, values in _model_rows(dated, columns):
                rows.append(
                    {
                        "provider": ours[provider.id],
                        "model": model.id,
                        "service_tier": tier,
                        "speed": speed,
                        "effective_from": start,
                        "effective_to": end,
                        **values,
                        "price_version": PRICE_VERSION,
                    }
                )
    return pl.DataFrame(rows, schema=PRICE_TABLE_SCHEMA).sort(
        "provider", "model", "service_tier", "speed", "effective_from", nulls_last=False
    )
