"""Subscription seats are priced from seat_prices, pro-rated per day to the exact 1e-12, never as tokens."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from transforms.allocation import allocate
from transforms.normalize import stamp_roles
from transforms.pricing import price_usage
from transforms.schema import USAGE_SCHEMA, conform
from transforms.seats import PRICE_VERSION, SEAT_PRICES_SCHEMA, SeatPriceError, price_seats

UNIT = Decimal("0.000000000001")


def _prices(*entries: tuple[str, str, str, str, date | None, date | None]) -> pl.DataFrame:
    """A seat_prices reference frame: (provider, plan, price_usd, period, valid_from, valid_to)."""
    return pl.DataFrame(list(entries), schema=SEAT_PRICES_SCHEMA, orient="row")


def _seats(
    days: list[date], plan: str = "pro", provider: str = "cursor", quantity: Decimal = Decimal(1)
) -> pl.DataFrame:
    """Canonical seat rows as a seat source emits them: one row per day held."""
    return conform(
        pl.DataFrame(
            {
                "billing_date": days,
                "period_start": [datetime(d.year, d.month, d.day, tzinfo=UTC) for d in days],
                "source": [provider] * len(days),
                "provider": [provider] * len(days),
                "principal_kind": ["cursor_email"] * len(days),
                "principal_id": ["ada@example.com"] * len(days),
                "billing_model": ["seat"] * len(days),
                "line_item": [plan] * len(days),
                "quantity": pl.Series([quantity] * len(days), dtype=pl.Decimal(38, 12)),
                "unit": ["seat"] * len(days),
                "charge_category": ["usage"] * len(days),
            },
            schema_overrides={"billing_date": pl.Date},
        )
    ).collect()


def _month(year: int, month: int) -> list[date]:
    return [date(year, month, d) for d in range(1, calendar.monthrange(year, month)[1] + 1)]


def _year(year: int) -> list[date]:
    return [d for m in range(1, 13) for d in _month(year, m)]


def _costs(frame: pl.DataFrame) -> list[Decimal]:
    return frame["list_cost_usd"].to_list()


MONTHLY_19 = _prices(("cursor", "pro", "19", "month", None, None))


def test_a_month_of_one_seat_costs_exactly_the_monthly_price() -> None:
    for year, month, extra_days, day_amount in [(2026, 2, 12, "0.678571428571"), (2026, 3, 14, "0.612903225806")]:
        out = price_seats(_seats(_month(year, month)), MONTHLY_19)
        costs = _costs(out)
        assert sum(costs) == Decimal("19.000000000000")
        assert max(costs) - min(costs) <= UNIT
        # largest remainder: the earliest days carry the extra unit
        base = Decimal(day_amount)
        assert costs == [base + UNIT] * extra_days + [base] * (len(costs) - extra_days)
        assert set(out["price_version"]) == {PRICE_VERSION}
        assert out["pricing_flag"].null_count() == out.height


@pytest.mark.parametrize("price", ["390", "100", "0.000000000007"])
@pytest.mark.parametrize("year", [2026, 2028])
def test_a_yearly_price_splits_over_months_then_days_exactly(price: str, year: int) -> None:
    out = price_seats(_seats(_year(year)), _prices(("cursor", "pro", price, "year", None, None)))
    by_month = [sum(_costs(out.filter(pl.col("billing_date").dt.month() == m)), start=Decimal(0)) for m in range(1, 13)]
    assert sum(by_month) == Decimal(price)
    assert sum(_costs(out)) == Decimal(price)
    assert max(by_month) - min(by_month) <= UNIT
    # months in calendar order carry the extra units
    assert by_month == sorted(by_month, reverse=True)
    units = int(Decimal(price) / UNIT)
    assert by_month == [(units // 12 + (1 if m <= units % 12 else 0)) * UNIT for m in range(1, 13)]


def test_yearly_390_is_32_50_a_month() -> None:
    out = price_seats(_seats(_month(2026, 2)), _prices(("cursor", "pro", "390", "year", None, None)))
    assert sum(_costs(out)) == Decimal("32.500000000000")


def test_three_seats_cost_three_times_the_day_amount() -> None:
    day = [date(2026, 2, 1)]
    one = _costs(price_seats(_seats(day), MONTHLY_19))[0]
    three = _costs(price_seats(_seats(day, quantity=Decimal(3)), MONTHLY_19))[0]
    assert one == Decimal("0.678571428572")
    assert three == 3 * one == Decimal("2.035714285716")


def test_a_fractional_seat_rounds_half_away_from_zero_at_scale_12() -> None:
    out = price_seats(_seats([date(2026, 2, 1)], quantity=Decimal("0.5")), MONTHLY_19)
    assert _costs(out) == [Decimal("0.339285714286")]  # 0.678571428572 / 2


def test_a_mid_month_price_change_prices_each_day_at_the_price_in_force() -> None:
    prices = _prices(
        ("cursor", "pro", "19", "month", None, date(2026, 3, 15)),
        ("cursor", "pro", "25", "month", date(2026, 3, 15), None),
    )
    costs = _costs(price_seats(_seats(_month(2026, 3)), prices))
    old_day, new_day = Decimal("0.612903225806"), Decimal("0.806451612903")
    assert costs[:14] == [old_day + UNIT] * 14  # days 1..14 at $19 (the first 14 days carry the extra unit)
    assert costs[14:] == [new_day] * 17  # days 15..31 at $25 (only days 1..7 would carry one)


def test_an_unknown_plan_or_a_day_without_a_price_is_unpriced_never_zero() -> None:
    prices = _prices(("cursor", "pro", "19", "month", date(2026, 3, 1), date(2026, 4, 1)))
    rows = pl.concat(
        [
            _seats([date(2026, 3, 2)], plan="ultra"),
            _seats([date(2026, 3, 2)], provider="github_copilot"),
            _seats([date(2026, 2, 28)]),  # before valid_from
            _seats([date(2026, 4, 1)]),  # valid_to is exclusive
            _seats([date(2026, 3, 31)]),
        ]
    )
    out = price_seats(rows, prices)
    assert out["pricing_flag"].to_list() == ["unpriced"] * 4 + [None]
    assert _costs(out) == [None] * 4 + [Decimal("0.612903225806")]
    assert out["price_version"].to_list() == [None] * 4 + [PRICE_VERSION]
    empty = price_seats(rows, SEAT_PRICES_SCHEMA.to_frame())
    assert set(empty["pricing_flag"]) == {"unpriced"} and empty["list_cost_usd"].null_count() == empty.height


def test_non_seat_rows_pass_through_and_order_and_schema_hold() -> None:
    token = conform(
        pl.DataFrame(
            {
                "billing_date": [date(2026, 3, 1), date(2026, 3, 2)],
                "provider": ["cursor", "anthropic"],
                "billing_model": ["metered_tokens", None],
                "line_item": ["pro", "pro"],
                "quantity": pl.Series([Decimal(1), Decimal(1)], dtype=pl.Decimal(38, 12)),
                "list_cost_usd": pl.Series([Decimal("1.5"), None], dtype=pl.Decimal(38, 12)),
                "price_version": ["genai-prices x", None],
                "pricing_flag": [None, "unpriced"],
                "cost_basis": ["list", "billed"],
            }
        )
    ).collect()
    seat = _seats([date(2026, 3, 3)]).with_columns(pl.lit("list").alias("cost_basis"))
    rows = pl.concat([token[0], seat, token[1]])
    out = price_seats(rows, MONTHLY_19)
    assert out.schema == rows.schema == USAGE_SCHEMA
    assert out[0].equals(token[0]) and out[2].equals(token[1])
    assert out["cost_basis"].to_list() == ["list", "list", "billed"]
    assert _costs(out)[1] == Decimal("0.612903225807")
    assert price_seats(token, MONTHLY_19).equals(token)  # no seats: nothing to price, prices not even read


def test_a_bad_seat_price_is_refused_not_misread() -> None:
    seat = _seats([date(2026, 3, 1)])
    for bad in [
        ("cursor", "pro", "19.0000000000001", "month", None, None),
        ("cursor", "pro", "$19", "month", None, None),
        ("cursor", "pro", "19", "week", None, None),
    ]:
        with pytest.raises(SeatPriceError):
            price_seats(seat, _prices(bad))


@st.composite
def price_texts(draw: st.DrawFn) -> str:
    """A price with up to 12 decimals, as the seat_prices reference holds it."""
    units = draw(st.integers(min_value=0, max_value=10**17))
    decimals = draw(st.integers(min_value=0, max_value=12))
    units -= units % 10 ** (12 - decimals)
    whole, frac = divmod(units, 10**12)
    return f"{whole}.{frac:012d}"[: len(str(whole)) + 1 + decimals].rstrip(".")


@settings(max_examples=30, deadline=None)
@given(price=price_texts(), month=st.dates(min_value=date(1999, 1, 1), max_value=date(2101, 12, 31)))
@example(price="39.99", month=date(2024, 2, 1))
@example(price="0.000000000030", month=date(2026, 1, 1))
@example(price="99999.999999999999", month=date(2026, 4, 1))
def test_the_days_of_a_month_sum_exactly_to_any_monthly_price(price: str, month: date) -> None:
    out = price_seats(_seats(_month(month.year, month.month)), _prices(("cursor", "pro", price, "month", None, None)))
    costs = _costs(out)
    assert sum(costs) == Decimal(price)
    assert max(costs) - min(costs) <= UNIT
    assert costs == sorted(costs, reverse=True)


def test_seat_pricing_prices_seat_rows_and_leaves_token_rows_as_before() -> None:
    day = date(2026, 3, 2)
    token = conform(
        pl.DataFrame(
            {
                "billing_date": [day],
                "period_start": [datetime(2026, 3, 2, tzinfo=UTC)],
                "source": ["claude_code_logs"],
                "provider": ["anthropic"],
                "model_raw": ["claude-sonnet-4-5-20250929"],
                "billing_model": ["metered_tokens"],
                "uncached_input_tokens": [1000],
                "cache_read_tokens": [0],
                "cache_write_5m_tokens": [0],
                "cache_write_1h_tokens": [0],
                "output_tokens": [500],
            }
        )
    ).collect()
    seat = _seats([day, day + timedelta(days=1)])
    rows = pl.concat([token, seat])
    roles = {"claude_code_logs": "metered", "cursor": "metered"}
    priced = price_usage(stamp_roles(rows, roles, "UTC"))  # the lake build's steps, seat pricing on and off
    before = allocate(priced, ["anthropic"])
    after = allocate(price_seats(priced, MONTHLY_19), ["anthropic"])
    assert after.schema == USAGE_SCHEMA
    assert after[0].equals(before[0])
    assert after["list_cost_usd"][0] == Decimal("0.010500000000")  # 1000 x $3/M + 500 x $15/M
    assert before["list_cost_usd"][1:].to_list() == [None, None]  # without seat_prices seats stay unpriced
    assert after["list_cost_usd"][1:].to_list() == [Decimal("0.612903225807")] * 2
    assert after["price_version"][1:].to_list() == [PRICE_VERSION] * 2
    assert after["cost_basis"][1:].to_list() == ["list"] * 2
