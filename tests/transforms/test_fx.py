"""FX conversion: billed money in another currency to USD at the billing day's rate, exactly."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.fx import FX_RATES_SCHEMA, MissingFxRateError, convert_to_usd, cross_rates
from transforms.schema import conform

FRI, SAT, SUN, MON = date(2025, 3, 7), date(2025, 3, 8), date(2025, 3, 9), date(2025, 3, 10)
TWELVE = Decimal("1E-12")


def _usd(amount: Decimal, units_per_usd: Decimal) -> Decimal:
    """The reference: plain Python Decimal at 50 digits, rounded once at 12 places, half away from zero."""
    with localcontext() as ctx:
        ctx.prec = 50
        return (amount / units_per_usd).quantize(TWELVE, rounding=ROUND_HALF_UP)


def _rates(*rows: tuple[date, str, str]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "date": [r[0] for r in rows],
            "currency": [r[1] for r in rows],
            "units_per_usd": [Decimal(r[2]) for r in rows],
        },
        schema=FX_RATES_SCHEMA,
    )


def _billed(*rows: tuple[date, str, str]) -> pl.DataFrame:
    """Billed lines as a parser leaves them: USD converted at 1, other currencies with no rate yet."""
    return conform(
        pl.DataFrame(
            {
                "billing_date": [r[0] for r in rows],
                "spend_role": ["billed"] * len(rows),
                "currency": [r[1] for r in rows],
                "amount_original": [Decimal(r[2]) for r in rows],
                "fx_rate": [Decimal(1) if r[1] == "USD" else None for r in rows],
                "billed_cost_usd": [Decimal(r[2]) if r[1] == "USD" else None for r in rows],
            }
        )
    ).collect()


RATES = _rates((FRI, "EUR", "0.922594335271"), (FRI, "GBP", "0.775486668512"), (MON, "EUR", "0.923105326318"))


def test_a_euro_line_converts_exactly_and_weekends_use_fridays_rate() -> None:
    rows = _billed((FRI, "EUR", "1234.567890123456"), (SUN, "EUR", "-20.5"), (MON, "EUR", "7"), (SUN, "USD", "3.3"))
    out = convert_to_usd(rows, RATES, 7)

    assert out.select("billing_date", "currency", "amount_original", "fx_rate", "billed_cost_usd").rows() == [
        (FRI, "EUR", Decimal("1234.567890123456"), Decimal("0.922594335271"), Decimal("1338.148136104497")),
        (SUN, "EUR", Decimal("-20.5"), Decimal("0.922594335271"), Decimal("-22.219949999995")),  # Friday's rate
        (MON, "EUR", Decimal("7"), Decimal("0.923105326318"), Decimal("7.583099999998")),
        (SUN, "USD", Decimal("3.3"), Decimal(1), Decimal("3.3")),
    ]
    # the same figures by a different route: plain Python Decimal (amount_original is already at 12 places)
    for amount, rate, usd in out.select("amount_original", "fx_rate", "billed_cost_usd").rows():
        assert usd == _usd(amount, rate)
    assert out.schema == rows.schema


def test_a_rate_older_than_the_max_age_is_a_blocking_error_naming_currency_and_day() -> None:
    # EUR on the 18th: Monday the 10th's rate is 8 days old; CHF has none at all; GBP is fine
    rows = _billed((date(2025, 3, 18), "EUR", "10"), (SAT, "GBP", "1"), (SAT, "CHF", "5"))
    with pytest.raises(MissingFxRateError) as exc:
        convert_to_usd(rows, RATES, 7)
    # the first (day, currency) in order is named, and the count of all the lines without a rate
    assert str(exc.value) == (
        "no CHF exchange rate for 2025-03-08: fx_rates has no CHF rate, and a rate may be at most 7 days old "
        "(fx.max_rate_age_days) (2 billed lines in all lack a rate); load one with "
        "`tokencomp reference load fx_rates PATH` and rerun"
    )
    with pytest.raises(
        MissingFxRateError, match=r"no EUR exchange rate for 2025-03-18: the latest EUR rate is from 2025-03-10"
    ):
        convert_to_usd(_billed((date(2025, 3, 18), "EUR", "10")), RATES, 7)
    with pytest.raises(
        MissingFxRateError, match=r"no GBP exchange rate for 2025-03-08: the latest GBP rate is from 2025-03-07"
    ):
        convert_to_usd(_billed((SAT, "GBP", "1")), RATES, 0)
    # configurable: one day of age is enough for Saturday, and 8 days for the next Saturday
    assert convert_to_usd(_billed((SAT, "GBP", "1")), RATES, 1)["fx_rate"].to_list() == [Decimal("0.775486668512")]
    late = convert_to_usd(_billed((FRI + timedelta(days=8), "GBP", "1")), RATES, 8)
    assert late["billed_cost_usd"].to_list() == [_usd(Decimal(1), Decimal("0.775486668512"))]


def test_usd_only_rows_need_no_rates() -> None:
    rows = _billed((SUN, "USD", "1.25"))
    assert convert_to_usd(rows, FX_RATES_SCHEMA.to_frame(), 7).equals(rows)


@settings(max_examples=50, deadline=None)
@given(
    cents=st.integers(min_value=-(10**24) + 1, max_value=10**24 - 1),
    rate_units=st.integers(min_value=10**10, max_value=10**21),
)
def test_conversion_equals_decimal_division_across_the_whole_money_range(cents: int, rate_units: int) -> None:
    # any amount below the 10^12 maximum, any rate in [0.01, 10^9] units per USD, both at 12 decimals
    amount, rate = Decimal(cents).scaleb(-12), Decimal(rate_units).scaleb(-12)
    out = convert_to_usd(_billed((SUN, "EUR", str(amount))), _rates((FRI, "EUR", str(rate))), 7)
    assert out["billed_cost_usd"].to_list() == [_usd(amount, rate)]


def test_cross_rates_through_the_euro() -> None:
    ecb = pl.DataFrame(
        {
            "date": [FRI] * 3,
            "currency": ["USD", "JPY", "IDR"],
            "per_eur": [Decimal("1.0839"), Decimal("160.17"), Decimal("17691.42")],
        }
    )
    got = cross_rates(ecb)
    usd = Decimal("1.0839")
    assert got.rows() == [
        (FRI, "EUR", _usd(Decimal(1), usd)),
        (FRI, "IDR", _usd(Decimal("17691.42"), usd)),
        (FRI, "JPY", _usd(Decimal("160.17"), usd)),
    ]
    assert got.rows()[0][2] == Decimal("0.922594335271")


@settings(max_examples=40, deadline=None)
@given(
    usd=st.integers(min_value=10**4, max_value=10**8),  # USD per EUR, 1.0000 to 10000 at 4 decimals
    others=st.lists(st.integers(min_value=10**3, max_value=10**12), min_size=1, max_size=5),
)
def test_cross_rates_equal_decimal_division(usd: int, others: list[int]) -> None:
    codes = ["AAA", "BBB", "CCC", "DDD", "EEE"][: len(others)]
    per_eur = {"USD": Decimal(usd).scaleb(-4), **{c: Decimal(v).scaleb(-6) for c, v in zip(codes, others, strict=True)}}
    ecb = pl.DataFrame({"date": [FRI] * len(per_eur), "currency": list(per_eur), "per_eur": list(per_eur.values())})
    got = {c: r for _, c, r in cross_rates(ecb).rows()}
    assert got == {"EUR": _usd(Decimal(1), per_eur["USD"]), **{c: _usd(per_eur[c], per_eur["USD"]) for c in codes}}
