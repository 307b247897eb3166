"""1,000+ random requests priced in one vectorized call cost exactly what genai_prices.calc_price says, as Decimals.

The draw covers dated price changes, long-context tiers (100k, 200k and 272k thresholds, both sides), both
cache-write kinds, service tiers and speeds the catalog prices (and some it does not), and 2025-01..2026-11.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import polars as pl

from tests.conftest import genai_price
from transforms.pricing import PRICE_VERSION, price_context, price_usage
from transforms.schema import TOKEN_COLUMNS, conform

Q = Decimal("0.000000000001")
SEED = 20260314
N_REQUESTS = 1_200

# (provider, raw model name as providers report it): what each one exercises
MODELS: list[tuple[str, str]] = [
    ("anthropic", "claude-opus-4-6"),  # 200k tier until 2026-03-13, flat after; batch from 2026-10-14
    ("anthropic", "claude-sonnet-4-5-20250929"),  # 200k tier; tiered batch prices
    ("anthropic", "claude-sonnet-4-6"),  # 200k tier until 2026-03-13
    ("anthropic", "claude-haiku-4-5-20251001"),
    ("anthropic", "claude-haiku-5-5"),  # 100k tier
    ("anthropic", "claude-opus-4-8"),  # fast mode
    ("anthropic", "claude-fable-5-2"),  # batch and fast mode with no start date
    ("openai", "gpt-5-2025-08-07"),  # flex, priority, fast, batch from 2026-10
    ("openai", "gpt-5.5"),  # 272k tier; flat priority prices
    ("openai", "gpt-5.6-luna"),  # price cut 2026-07-30; tiered cache writes
    ("openai", "o3"),  # price cut 2025-06-10
    ("openai", "gpt-4.1-2025-04-14"),
    ("openai", "gpt-6.1-terra"),  # tiered variants with no start date
    ("openai", "gpt-4o-mini"),
]
TIERS = {
    "anthropic": [None, "standard", "batch", "priority"],
    "openai": [None, "default", "batch", "flex", "priority", "fast", "scale"],
}
SPEEDS = {"anthropic": [None, "standard", "fast"], "openai": [None]}
THRESHOLDS = (100_000, 200_000, 272_000)
START = datetime(2025, 1, 1, tzinfo=UTC)
END = datetime(2026, 12, 1, tzinfo=UTC)
VARIANTS_START = datetime(2026, 9, 1, tzinfo=UTC)  # most catalog tier prices start in 2026-10


def _total_input(rng: random.Random) -> int:
    """Small, near a tier threshold (either side), or long."""
    pick = rng.random()
    if pick < 0.3:
        return rng.randint(0, 50_000)
    if pick < 0.7:
        return max(0, rng.choice(THRESHOLDS) + rng.randint(-2_000, 2_000))
    return rng.randint(50_000, 900_000)


def _split(rng: random.Random, total: int, parts: int) -> list[int]:
    cuts = sorted(rng.randint(0, total) for _ in range(parts - 1))
    return [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]


def _requests(rng: random.Random) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for _ in range(N_REQUESTS):
        provider, raw = rng.choice(MODELS)
        since = VARIANTS_START if rng.random() < 0.4 else START
        when = since + timedelta(seconds=rng.randrange(int((END - since).total_seconds())))
        total = _total_input(rng)
        if provider == "openai":  # OpenAI has no 1-hour cache writes
            u, cr, w5 = _split(rng, total, 3)
            w1 = 0
        else:
            u, cr, w5, w1 = _split(rng, total, 4)
        out.append(
            {
                "source": "claude_code_logs",
                "provider": provider,
                "model_raw": raw,
                "billing_date": when.date(),
                "period_start": when,
                "service_tier": rng.choice(TIERS[provider]),
                "speed": rng.choice(SPEEDS[provider]),
                "uncached_input_tokens": u,
                "cache_read_tokens": cr,
                "cache_write_5m_tokens": w5,
                "cache_write_1h_tokens": w1,
                "output_tokens": rng.choice([0, rng.randint(1, 2_000), rng.randint(2_000, 128_000)]),
                "requests": 1,
                "billing_model": "metered_tokens",
            }
        )
    return out


def _reference(r: dict[str, object]) -> Decimal:
    tokens = tuple(int(r[k]) for k in TOKEN_COLUMNS)  # type: ignore[call-overload]
    context = price_context(r["service_tier"], r["speed"])  # type: ignore[arg-type]
    return genai_price(str(r["provider"]), str(r["model_raw"]), r["period_start"], tokens, context)  # type: ignore[arg-type]


def test_random_single_requests_cost_exactly_what_genai_prices_says() -> None:
    records = _requests(random.Random(SEED))
    priced = price_usage(conform(pl.DataFrame(records, infer_schema_length=None)).collect())
    assert priced.height == N_REQUESTS
    assert priced["pricing_flag"].null_count() == N_REQUESTS
    assert set(priced["price_version"]) == {PRICE_VERSION}
    got = priced["list_cost_usd"].to_list()
    wrong = [(r, g, _reference(r)) for r, g in zip(records, got, strict=True) if g != _reference(r)]
    assert not wrong, f"{len(wrong)} of {N_REQUESTS} differ, e.g. {wrong[:3]}"


def test_the_draw_covers_what_it_claims() -> None:
    """Guards the draw itself: both sides of every threshold, every model, tiers, speeds, dates, cache kinds."""
    frame = pl.DataFrame(_requests(random.Random(SEED)), infer_schema_length=None)
    total = pl.sum_horizontal(
        "uncached_input_tokens", "cache_read_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens"
    )
    for threshold in THRESHOLDS:
        assert frame.filter(total.is_between(threshold - 2_000, threshold)).height > 10
        assert frame.filter(total.is_between(threshold + 1, threshold + 2_000)).height > 10
    assert frame["model_raw"].n_unique() == len(MODELS)
    assert set(frame["service_tier"].drop_nulls()) == {t for ts in TIERS.values() for t in ts if t}
    assert "fast" in set(frame["speed"].drop_nulls())
    assert frame["billing_date"].min() < date(2025, 6, 10) and frame["billing_date"].max() > date(2026, 10, 14)
    assert (frame["cache_write_5m_tokens"] > 0).sum() > 500 and (frame["cache_write_1h_tokens"] > 0).sum() > 200


def test_aggregates_with_context_window_cost_the_sum_of_their_requests() -> None:
    """An aggregated row tiered by its context_window equals the requests it sums, each priced by genai-prices."""
    rng = random.Random(SEED + 1)
    anthropic = [m for m in MODELS if m[0] == "anthropic" and m[1] not in ("claude-haiku-5-5",)]
    aggregates: list[dict[str, object]] = []
    expected: list[Decimal] = []
    for _ in range(200):
        provider, raw = rng.choice(anthropic)
        day = date(2025, 1, 1) + timedelta(days=rng.randrange(700))
        window = rng.choice(["0-200k", "200k-1M"])
        tier, speed = rng.choice(TIERS[provider]), rng.choice(SPEEDS[provider])
        requests = []
        for _ in range(rng.randint(1, 6)):
            total = rng.randint(1_000, 199_999) if window == "0-200k" else rng.randint(200_001, 900_000)
            u, cr, w5, w1 = _split(rng, total, 4)
            when = datetime(day.year, day.month, day.day, rng.randrange(24), tzinfo=UTC)
            requests.append(
                {
                    "model_raw": raw,
                    "provider": provider,
                    "period_start": when,
                    "service_tier": tier,
                    "speed": speed,
                    "uncached_input_tokens": u,
                    "cache_read_tokens": cr,
                    "cache_write_5m_tokens": w5,
                    "cache_write_1h_tokens": w1,
                    "output_tokens": rng.randint(0, 20_000),
                }
            )
        expected.append(sum((_reference(r) for r in requests), Decimal(0)))
        sums = {k: sum(int(r[k]) for r in requests) for k in requests[0] if k.endswith("_tokens")}  # type: ignore[call-overload]
        aggregates.append(
            {
                "source": "anthropic_usage",
                "provider": provider,
                "model_raw": raw,
                "billing_date": day,
                "context_window": window,
                "service_tier": tier,
                "speed": speed,
                "requests": len(requests),
                **sums,
            }
        )
    priced = price_usage(conform(pl.DataFrame(aggregates, infer_schema_length=None)).collect())
    assert priced["list_cost_usd"].to_list() == expected
    assert priced["pricing_flag"].null_count() == len(aggregates)
