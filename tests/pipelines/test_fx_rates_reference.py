"""`tokencomp reference load fx_rates`: our own CSV and the ECB's euro reference rates, validated."""

from __future__ import annotations

import csv
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext
from pathlib import Path

import polars as pl
import pytest

from pipelines.cli import main
from pipelines.config import Settings
from pipelines.services.reference import ReferenceError, load_reference, read_fx_rates, reference_frame

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "fx"
HIST = FIXTURES / "eurofxref-hist.csv"
DAILY = FIXTURES / "eurofxref.csv"


def _per_usd(per_eur: str, usd_per_eur: str) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 50
        return (Decimal(per_eur) / Decimal(usd_per_eur)).quantize(Decimal("1E-12"), rounding=ROUND_HALF_UP)


def _expected_from_ecb(path: Path) -> dict[tuple[date, str], Decimal]:
    """Rates per USD recomputed from the ECB file with the csv module and plain Decimal."""
    out: dict[tuple[date, str], Decimal] = {}
    with path.open(newline="") as f:
        rows = [[cell.strip() for cell in row] for row in csv.reader(f)]
    header = rows[0]
    for row in rows[1:]:
        cells = dict(zip(header, row, strict=True))
        text = cells.pop("Date")
        day = date.fromisoformat(text) if "-" in text else date(2025, 3, int(text.split()[0]))
        usd = cells.pop("USD")
        out[(day, "EUR")] = _per_usd("1", usd)
        for code, value in cells.items():
            if code and value != "N/A":
                out[(day, code)] = _per_usd(value, usd)
    return out


@pytest.mark.parametrize("path", [HIST, DAILY], ids=["eurofxref-hist", "eurofxref-daily"])
def test_ecb_file_becomes_rates_per_usd_through_the_euro(path: Path) -> None:
    got = read_fx_rates(path)
    expected = _expected_from_ecb(path)
    assert {(d, c): r for d, c, r in got.rows()} == expected
    assert got.height == len(expected)
    assert "USD" not in got["currency"].to_list()
    assert "CYP" not in got["currency"].to_list()  # N/A cells are no rate


def test_known_cross_rates_of_the_fixture() -> None:
    got = {(d, c): r for d, c, r in read_fx_rates(HIST).rows()}
    # 7 March 2025: USD 1.0839 and JPY 160.17 per EUR
    assert got[(date(2025, 3, 7), "EUR")] == Decimal("0.922594335271")
    assert got[(date(2025, 3, 7), "JPY")] == Decimal("147.771934680321")
    assert (date(2025, 3, 8), "EUR") not in got  # no reference rate on a weekend


def test_loads_accumulate_and_a_day_loaded_again_takes_the_new_rate(settings: Settings, tmp_path: Path) -> None:
    assert load_reference(settings, "fx_rates", [HIST]) == 360
    assert load_reference(settings, "fx_rates", [DAILY]) == 30  # the 11th again, from the daily file
    own = tmp_path / "rates.csv"
    own.write_text("date,currency,units_per_usd\n2025-03-11,EUR,0.92\n2024-12-31,eur,0.96\n2024-12-31,USD,1\n")
    assert load_reference(settings, "fx_rates", [own]) == 2
    stored = reference_frame(settings, "fx_rates")
    assert stored.height == 361
    assert stored.filter(pl.col("currency") == "EUR").head(2).rows() == [
        (date(2024, 12, 31), "EUR", Decimal("0.96")),
        (date(2025, 2, 24), "EUR", _per_usd("1", "1.0465")),
    ]
    assert stored.filter((pl.col("date") == date(2025, 3, 11)) & (pl.col("currency") == "EUR"))["units_per_usd"][0] == (
        Decimal("0.92")
    )
    before = (settings.reference / "fx_rates.parquet").read_bytes()
    load_reference(settings, "fx_rates", [own])
    assert (settings.reference / "fx_rates.parquet").read_bytes() == before  # idempotent


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (
            "date,currency,units_per_usd\n2025-03-07,EUR,0.92\n2025-03-32,GBP,0.77\n",
            ":3: field 'date': not a date: '2025-03-32'",
        ),
        ("date,currency,units_per_usd\n2025-03-07,EURO,0.92\n", ":2: field 'currency': not a currency code: 'EURO'"),
        (
            "date,currency,units_per_usd\n2025-03-07,EUR,0.92\n2025-03-07,JPY,1.5e2\n",
            ":3: field 'units_per_usd': not a decimal rate with at most 12 decimals: '1.5e2'",
        ),
        (
            "date,currency,units_per_usd\n2025-03-07,KWD,0.001\n",
            ":2: field 'units_per_usd': units per USD outside [0.01, 1000000000]: 'KWD 0.001000000000'",
        ),
        (
            "date,currency,units_per_usd\n2025-03-07,USD,1.1\n",
            ":2: field 'units_per_usd': a USD rate must be 1: '1.100000000000'",
        ),
        (
            "date,currency,units_per_usd\n2025-03-07,EUR,0.92\n2025-03-07,eur,0.93\n",
            ":3: field 'currency': a second rate for: '2025-03-07 EUR'",
        ),
        (
            "day,currency,rate\n2025-03-07,EUR,0.92\n",
            ": missing column 'date' (expected date,currency,units_per_usd, or the ECB's Date,USD,...)",
        ),
        (
            "Date,USD,JPY,\n2025-03-07,1.0839,160.17,\n2025-03-06,1.0796,abc,\n",
            ":3: field 'JPY': not a positive rate: 'abc'",
        ),
        (
            "Date,USD,JPY,\n2025-03-07,1.0839,160.17,\n2025-03-07,1.0796,159.99,\n",
            ":3: field 'Date': a second row for: '2025-03-07'",
        ),
        ("Date,USD,JPY,\n2025/03/07,1.0839,160.17,\n", ":2: field 'Date': not a date: '2025/03/07'"),
        (
            "Date,USD,Yen,\n2025-03-07,1.0839,160.17,\n",
            ":1: field 'Yen': not a currency code (the ECB header is Date,USD,...)",
        ),
        ("Date,USD,JPY,\n2025-03-07,0,160.17,\n", ":2: field 'USD': not a positive rate: '0'"),
        (
            "Date,USD,JPY,\n2025-03-07,200,160.17,\n",
            ":2: field 'USD': units per USD outside [0.01, 1000000000]: 'EUR 0.005000000000'",
        ),
    ],
)
def test_bad_rates_fail_naming_file_line_and_field(tmp_path: Path, text: str, error: str) -> None:
    path = tmp_path / "fx.csv"
    path.write_text(text)
    with pytest.raises(ReferenceError) as exc:
        read_fx_rates(path)
    assert str(exc.value) == f"{path}{error}"


def test_two_files_of_one_load_that_disagree_fail(settings: Settings, tmp_path: Path) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("date,currency,units_per_usd\n2025-03-07,EUR,0.92\n")
    b.write_text("date,currency,units_per_usd\n2025-03-07,EUR,0.93\n")
    with pytest.raises(ReferenceError) as exc:
        load_reference(settings, "fx_rates", [a, b])
    assert (
        str(exc.value)
        == f"{b}: field 'units_per_usd': EUR on 2025-03-07 is 0.930000000000, but {a} says 0.920000000000"
    )
    assert not (settings.reference / "fx_rates.parquet").exists()


def test_cli_loads_the_ecb_file(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--data-dir", str(settings.data_dir), "reference", "load", "fx_rates", str(HIST)]) == 0
    assert capsys.readouterr().out.strip() == f"loaded fx_rates: 360 rows into {settings.reference}"
