"""The one largest-remainder split (allocation, seats, shared routes): exact, proportional, deterministic, and
free of overflow for any total and weights a DECIMAL(38,12) can hold, checked against plain Python integers."""

from __future__ import annotations

import functools
import random
from collections.abc import Sequence
from fractions import Fraction

import duckdb
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.common import connect
from transforms.money import install_money_macros

Part = tuple[int, int, int, int]  # grp, item, units (the group's total), weight
MAX_UNITS = 10**38 - 1  # a DECIMAL(38,12) in units of 1e-12


@functools.cache
def _engine() -> duckdb.DuckDBPyConnection:
    con = connect()
    install_money_macros(con)
    return con


def split(parts: Sequence[Part]) -> dict[tuple[int, int], int]:
    """Run the SQL macro on (grp, item, units, weight) rows: each item's share of its group's units."""
    con = _engine()
    text = [(g, i, str(u), str(w)) for g, i, u, w in parts]
    con.register("raw", pl.DataFrame(text, schema=["grp", "item", "units", "weight"], orient="row"))
    con.execute(
        "create or replace temp view parts as "
        "select grp, item, units::hugeint as units, weight::hugeint as weight from raw"
    )
    rows = con.sql("select grp, item, units::varchar from largest_remainder(parts)").fetchall()
    return {(g, i): int(u) for g, i, u in rows}


def reference(units: int, weights: dict[int, int]) -> dict[int, int]:
    """Largest remainder in plain Python integers: floor shares, then one unit each to the largest remainders,
    the lower item first on a tie; the sign of the total on every share."""
    total, whole = abs(units), sum(weights.values())
    floors = {k: total * w // whole for k, w in weights.items()}
    by_remainder = sorted(weights, key=lambda k: (-(total * weights[k] % whole), k))
    for k in by_remainder[: total - sum(floors.values())]:
        floors[k] += 1
    sign = -1 if units < 0 else 1
    return {k: sign * v for k, v in floors.items()}


def digits(n: int) -> int:
    return len(str(abs(n)))


def of_digits(n: int) -> st.SearchStrategy[int]:
    """Integers of exactly `n` digits (0 for n = 0), so that every magnitude is drawn, not mostly small ones."""
    return st.just(0) if n == 0 else st.integers(10 ** (n - 1), 10**n - 1)


@st.composite
def groups(draw: st.DrawFn) -> tuple[int, dict[int, int]]:
    """A total and its items' weights, from one unit to the DECIMAL(38,12) maximum, weights of any size."""
    units = draw(of_digits(draw(st.integers(0, 38)))) * draw(st.sampled_from([1, -1]))
    size = draw(st.integers(1, 37))
    weights = draw(st.lists(st.integers(0, size).flatmap(of_digits), min_size=1, max_size=8))
    if sum(weights) == 0:
        weights[0] = 1
    return units, dict(enumerate(weights))


def as_parts(grp: int, units: int, weights: dict[int, int]) -> list[Part]:
    return [(grp, item, units, w) for item, w in weights.items()]


@settings(max_examples=80, deadline=None)
@given(groups())
def test_the_shares_are_exact_largest_remainder_wherever_the_products_fit(group: tuple[int, dict[int, int]]) -> None:
    units, weights = group
    whole = sum(weights.values())
    if digits(units) + digits(whole) > 38 and digits(whole) > 19:
        return  # the range where weights drop digits: the next test
    shares = split(as_parts(1, units, weights))
    assert shares == {(1, k): v for k, v in reference(units, weights).items()}
    for k, w in weights.items():  # within one unit of the exact proportion
        assert abs(shares[(1, k)] - Fraction(units * w, whole)) < 1


@settings(max_examples=80, deadline=None)
@given(groups())
def test_any_total_splits_exactly_and_each_share_stays_within_the_documented_bound(
    group: tuple[int, dict[int, int]],
) -> None:
    units, weights = group
    shares = split(as_parts(1, units, weights))
    assert sum(shares.values()) == units
    assert all(abs(s) <= abs(units) and (s == 0 or (s > 0) == (units > 0)) for s in shares.values())
    # docs/money.md: under 1 + n * 10^(2b - 37) units for a total of b <= 19 digits, 1 + n * |total| / 10^18 above
    whole, b, n = sum(weights.values()), digits(units), len(weights)
    bound = 1 + n * (Fraction(10) ** (2 * b - 37) if b <= 19 else Fraction(abs(units), 10**18))
    for k, w in weights.items():
        assert abs(shares[(1, k)] - Fraction(units * w, whole)) < bound


def test_the_largest_totals_and_weights_split_exactly() -> None:
    # both at the maximum: units x weight would be 10^76, far past HUGEINT (1.7e38)
    weights = {1: MAX_UNITS // 3, 2: MAX_UNITS // 3 + 1, 3: 7}
    shares = split(as_parts(1, MAX_UNITS, weights))
    assert sum(shares.values()) == MAX_UNITS
    for k, w in weights.items():
        assert abs(shares[(1, k)] - Fraction(MAX_UNITS * w, sum(weights.values()))) < 1 + 3 * 10**20


@settings(max_examples=50, deadline=None)
@given(
    units=st.integers(-(10**30), 10**30),
    weight=st.integers(1, 10**20),
    n=st.integers(1, 40),
    order=st.randoms(use_true_random=False),
)
def test_equal_remainders_go_to_the_lower_items_whatever_the_row_order(
    units: int, weight: int, n: int, order: random.Random
) -> None:
    parts = as_parts(1, units, dict.fromkeys(range(n), weight))
    order.shuffle(parts)
    shares = split(parts)
    base, extra = divmod(abs(units), n)
    sign = -1 if units < 0 else 1
    assert shares == {(1, k): sign * (base + (1 if k < extra else 0)) for k in range(n)}


def test_groups_split_independently_and_a_group_without_weight_gets_nothing() -> None:
    parts = [*as_parts(1, 10, {1: 1, 2: 2}), *as_parts(2, -7, {1: 5, 3: 5}), *as_parts(3, 4, {1: 0, 2: 0})]
    assert split(parts) == {(1, 1): 3, (1, 2): 7, (2, 1): -4, (2, 3): -3}
