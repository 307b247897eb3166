"""List prices: an effective-dated price table derived from genai-prices' bundled data, applied by a join.

The catalog is read once per (provider, model, price period), never per row: each price per million
tokens is obtained by asking genai-prices itself to price a probe request of one token kind, so its
own fallbacks (e.g. OpenAI cache writes billed as input) hold here too. Usage rows are then priced
with one DuckDB join (`sql/price_usage.sql`). Negotiated overrides and request-level service-tier
variants come with the cost-engine issue (#3); this module is where they plug in.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from importlib.metadata import version
from importlib.resources import files

import polars as pl
from genai_prices import Usage, data_snapshot
from genai_prices.types import ConditionalPrice, ModelPrice, StartDateConstraint, TieredPrices

from transforms.common import connect
from transforms.schema import PRICE

PRICE_VERSION = f"genai-prices {version('genai-prices')}"
# Requests are "per request" (tier chosen from the request's own input) for these sources;
# every other source reports aggregates and is tiered from its `context_window` dimension.
PER_REQUEST_SOURCES: tuple[str, ...] = ("claude_code_logs",)
# Our provider ids → the catalog's provider ids.
CATALOG_PROVIDER: dict[str, str] = {"anthropic": "anthropic", "openai": "openai"}

_BASE_PROBE = 100_000  # below every tier threshold in the catalog
_MILLION = Decimal(1_000_000)

PRICE_TABLE_SCHEMA = pl.Schema(
    {
        "provider": pl.String,
        "model": pl.String,
        "effective_from": pl.Date,
        "effective_to": pl.Date,
        "uncached_input_mtok": PRICE,
        "cache_read_mtok": PRICE,
        "cache_write_5m_mtok": PRICE,
        "cache_write_1h_mtok": PRICE,
        "output_mtok": PRICE,
        "tier_threshold": pl.Int64,
        "tier_uncached_input_mtok": PRICE,
        "tier_cache_read_mtok": PRICE,
        "tier_cache_write_5m_mtok": PRICE,
        "tier_cache_write_1h_mtok": PRICE,
        "tier_output_mtok": PRICE,
        "price_version": pl.String,
    }
)

_KINDS = ("uncached_input", "cache_read", "cache_write_5m", "cache_write_1h", "output")


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


def _tier_threshold(price: ModelPrice) -> int | None:
    starts = [v.tiers[0].start for v in vars(price).values() if isinstance(v, TieredPrices) and v.tiers]
    return min(starts) if starts else None


def _periods(prices: ModelPrice | list[ConditionalPrice]) -> list[tuple[date, date | None, ModelPrice]]:
    """Split a catalog entry into dated periods. Constraints other than a start date are skipped."""
    if isinstance(prices, ModelPrice):
        return [(date(1970, 1, 1), None, prices)]
    dated = [
        (c.constraint.start_date if isinstance(c.constraint, StartDateConstraint) else date(1970, 1, 1), c.prices)
        for c in prices
        if c.constraint is None or isinstance(c.constraint, StartDateConstraint)
    ]
    dated.sort(key=lambda t: t[0])
    return [(start, dated[i + 1][0] if i + 1 < len(dated) else None, p) for i, (start, p) in enumerate(dated)]


@functools.cache
def price_table() -> pl.DataFrame:
    """The effective-dated list price table for every catalog model of the providers we ingest.

    One row per (provider, model, period): per-million prices of each token kind at the base tier
    and, for long-context models, above `tier_threshold` input tokens.
    """
    snapshot = data_snapshot.get_snapshot()
    rows: list[dict[str, object]] = []
    for provider in snapshot.providers:
        ours = [k for k, v in CATALOG_PROVIDER.items() if v == provider.id]
        if not ours:
            continue
        for model in provider.models:
            for start, end, price in _periods(model.prices):
                threshold = _tier_threshold(price)
                row: dict[str, object] = {
                    "provider": ours[0],
                    "model": model.id,
                    "effective_from": start,
                    "effective_to": end,
                    "tier_threshold": threshold,
                    "price_version": PRICE_VERSION,
                }
                for kind in _KINDS:
                    row[f"{kind}_mtok"] = _probe(price, kind, _BASE_PROBE)
                    row[f"tier_{kind}_mtok"] = (
                        _probe(price, kind, threshold + _BASE_PROBE) if threshold is not None else None
                    )
                rows.append(row)
    return pl.DataFrame(rows, schema=PRICE_TABLE_SCHEMA, orient="row").sort("provider", "model", "effective_from")


def match_models(pairs: Iterable[tuple[str, str]]) -> pl.DataFrame:
    """Map each distinct (provider, raw model name) to a catalog model id by the catalog's own rules.

    Unknown names map to null and are flagged `unpriced` downstream, never priced at $0.
    """
    snapshot = data_snapshot.get_snapshot()
    providers = {p.id: p for p in snapshot.providers}
    out: list[tuple[str, str, str | None]] = []
    for provider, raw in sorted(set(pairs)):
        catalog = providers.get(CATALOG_PROVIDER.get(provider, ""))
        found = catalog.find_model(raw) if catalog is not None else None
        out.append((provider, raw, found.id if found is not None else None))
    return pl.DataFrame(
        out, schema={"provider": pl.String, "model_raw": pl.String, "model_id": pl.String}, orient="row"
    )


def price_usage(rows: pl.DataFrame) -> pl.DataFrame:
    """Set `model`, `list_cost_usd`, `price_version` and `pricing_flag` on canonical usage rows.

    Token rows are priced at the list price in force on their `billing_date`; cost rows (no tokens)
    pass through untouched. Money stays DECIMAL(38,12) throughout.
    """
    pairs = rows.filter(pl.col("model_raw").is_not_null()).select("provider", "model_raw").unique().rows()
    model_map = match_models(pairs)  # noqa: F841 - referenced by name in the SQL
    prices = price_table()  # noqa: F841
    con = connect()
    sql = files("transforms").joinpath("sql/price_usage.sql").read_text()
    usage_rows = rows.with_row_index("_row")  # noqa: F841 - read by the SQL; joins do not keep row order
    priced = con.sql(sql, params={"per_request_sources": list(PER_REQUEST_SOURCES)})
    return priced.pl().sort("_row").select(rows.columns).cast(dict(rows.schema))  # type: ignore[arg-type]
