"""Billed dollars onto metered rows: exact tie-out per provider, scope and day, at the finest shared grain."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.allocation import allocate
from transforms.schema import conform

D1, D2 = date(2026, 3, 2), date(2026, 3, 3)
Z = {
    "uncached_input_tokens": 0,
    "cache_read_tokens": 0,
    "cache_write_5m_tokens": 0,
    "cache_write_1h_tokens": 0,
    "output_tokens": 0,
}


def _frame(rows: list[dict[str, object]]) -> pl.DataFrame:
    return conform(pl.DataFrame(rows, infer_schema_length=None)).collect()


def metered(provider: str, scope: str, day: date, list_usd: str, model: str = "m1", **tokens: int) -> dict[str, object]:
    return {
        "provider": provider,
        "spend_role": "metered",
        "cost_basis": "list",
        "scope_kind": "workspace",
        "scope_id": scope,
        "billing_date": day,
        "model": model,
        "list_cost_usd": Decimal(list_usd),
        **Z,
        **tokens,
    }


def billed(
    provider: str,
    scope: str,
    day: date,
    amount: str,
    model: str | None = None,
    kind: str | None = None,
    cw: str | None = None,
) -> dict[str, object]:
    return {
        "provider": provider,
        "spend_role": "billed",
        "cost_basis": "billed",
        "scope_kind": "workspace",
        "scope_id": scope,
        "billing_date": day,
        "model": model,
        "token_kind": kind,
        "context_window": cw,
        "billed_cost_usd": Decimal(amount),
    }


def test_token_kind_lines_land_only_on_that_models_tokens_of_that_kind() -> None:
    rows = _frame(
        [
            metered("anthropic", "w1", D1, "1", "m1", uncached_input_tokens=300, output_tokens=10),
            metered("anthropic", "w1", D1, "1", "m1", uncached_input_tokens=100, output_tokens=30),
            metered("anthropic", "w1", D1, "1", "m2", uncached_input_tokens=999),
            billed("anthropic", "w1", D1, "4", "m1", "uncached_input"),
            billed("anthropic", "w1", D1, "1", "m1", "output"),
        ]
    )
    out = allocate(rows, ["anthropic"])
    # input $4 split 300:100, output $1 split 10:30; m2 has no bill line → zero
    assert out["allocated_cost_usd"].to_list() == [Decimal("3.25"), Decimal("1.75"), Decimal(0), Decimal(4), Decimal(1)]
    assert out["cost_basis"].to_list() == ["allocated", "allocated", "allocated", "billed", "billed"]


def test_scope_level_lines_share_by_list_cost_and_uncovered_dollars_remain() -> None:
    rows = _frame(
        [
            metered("openai", "p1", D1, "2"),
            metered("openai", "p1", D1, "6"),
            billed("openai", "p1", D1, "7.6"),  # a project line item: no model, no token kind
            billed("openai", "p2", D1, "5"),  # no usage in project p2: stays unallocated
        ]
    )
    out = allocate(rows, ["openai"])
    assert out["allocated_cost_usd"].to_list() == [Decimal("1.9"), Decimal("5.7"), Decimal("7.6"), Decimal(0)]


def test_largest_remainder_keeps_thirds_exact() -> None:
    rows = _frame([metered("openai", "p", D1, "1") for _ in range(3)] + [billed("openai", "p", D1, "1")])
    parts = allocate(rows, ["openai"])["allocated_cost_usd"].to_list()[:3]
    assert sum(parts) == Decimal(1)
    assert sorted(parts) == [Decimal("0.333333333333")] * 2 + [Decimal("0.333333333334")]


def test_days_without_a_bill_and_providers_without_a_billed_source_stay_at_list() -> None:
    rows = _frame(
        [
            metered("openai", "p", D1, "2"),
            metered("openai", "p", D2, "3"),
            billed("openai", "p", D1, "1"),
            metered("mistral", "x", D1, "5"),
        ]
    )
    out = allocate(rows, ["openai"])
    assert out["cost_basis"].to_list() == ["allocated", "list", "billed", "list"]
    assert out["allocated_cost_usd"].to_list() == [Decimal(1), None, Decimal(1), None]


scopes = st.sampled_from(["w1", "w2", "default"])
days = st.sampled_from([D1, D2])
kinds = st.sampled_from([None, "uncached_input", "output", "cache_read"])
cents = st.decimals(min_value=Decimal("0.000000000001"), max_value=Decimal("5000"), places=12)


@settings(max_examples=80, deadline=None)
@given(
    usage=st.lists(st.tuples(scopes, days, st.integers(0, 10**7), st.integers(0, 10**6), cents), max_size=12),
    bills=st.lists(st.tuples(scopes, days, kinds, cents), min_size=1, max_size=8),
)
def test_allocated_plus_unallocated_equals_billed_exactly(
    usage: list[tuple[str, date, int, int, Decimal]], bills: list[tuple[str, date, str | None, Decimal]]
) -> None:
    rows = [
        metered("anthropic", s, d, str(lc), uncached_input_tokens=u, output_tokens=o, cache_read_tokens=u // 3)
        for s, d, u, o, lc in usage
    ]
    rows += [billed("anthropic", s, d, str(a), "m1" if k else None, k) for s, d, k, a in bills]
    out = allocate(_frame(rows), ["anthropic"])
    allocated, remainder, total = defaultdict(Decimal), defaultdict(Decimal), defaultdict(Decimal)
    for r in out.iter_rows(named=True):
        key = (r["scope_id"], r["billing_date"])
        if r["spend_role"] == "metered" and r["allocated_cost_usd"] is not None:
            assert r["allocated_cost_usd"] >= 0
            allocated[key] += r["allocated_cost_usd"]
        elif r["spend_role"] == "billed":
            total[key] += r["billed_cost_usd"]
            remainder[key] += r["billed_cost_usd"] - r["allocated_cost_usd"]
    for key, amount in total.items():
        assert allocated[key] + remainder[key] == amount


def test_seat_rows_keep_their_seat_price_and_take_no_token_bill() -> None:
    seat = {**metered("anthropic", "w1", D1, "0.6"), "billing_model": "seat", "line_item": "team"}
    rows = _frame([seat, metered("anthropic", "w1", D1, "1", output_tokens=5), billed("anthropic", "w1", D1, "2")])
    out = allocate(rows, ["anthropic"])
    assert out["cost_basis"].to_list() == ["list", "allocated", "billed"]
    assert out["allocated_cost_usd"].to_list() == [None, Decimal(2), Decimal(2)]


def test_bills_and_weights_at_the_range_limits_allocate_exactly_without_overflow() -> None:
    # A bill just below the money maximum after FX (10^14 USD, docs/money.md) over list costs of 10^13 USD
    # used to overflow: `billed_cost_usd * 10^12` left DECIMAL(38,12) and units x weight left hugeint.
    bill = "99999999999999.999999999999"
    rows = _frame(
        [
            metered("openai", "p1", D1, "9999999999999.123456789012"),
            metered("openai", "p1", D1, "3333333333333.333333333333"),
            metered("openai", "p1", D1, "0.000000000001"),
            billed("openai", "p1", D1, bill),
            metered("anthropic", "w1", D1, "1", "m1", output_tokens=9_000_000_000_000_000_000),
            metered("anthropic", "w1", D1, "1", "m1", output_tokens=1),
            billed("anthropic", "w1", D1, bill, "m1", "output"),
        ]
    )
    out = allocate(rows, ["openai", "anthropic"])["allocated_cost_usd"].to_list()
    assert sum(out[:3]) == Decimal(bill) and out[3] == Decimal(bill)
    assert sum(out[4:6]) == Decimal(bill) and out[6] == Decimal(bill)
    # proportions: weights then keep 12 of their digits, so a share is within 1e-11 of the bill of exact
    exact = Decimal(bill) * Decimal("9999999999999.123456789012") / Decimal("13333333333332.456790122346")
    assert abs(out[0] - exact) < Decimal(bill) * Decimal("1e-11")
    assert out[5] < Decimal("0.0001")
