"""The salary loader on hand-made messy files: every rule of docs/salaries.md, with exact rows and errors."""

from __future__ import annotations

import tempfile
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.config import Settings
from pipelines.services.salaries import load_salaries
from transforms.salaries import SalaryFileError, read_salary_file
from transforms.salary_names import company_key, with_companies, with_levels, with_locations

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "salaries"
ROW = ("line", "company", "level", "location", "country", "base", "stock", "bonus", "total")


def test_messy_classic_file_rows_and_rejections_exactly() -> None:
    got = read_salary_file(FIXTURES / "messy_classic.csv")
    assert (got.shape, got.rows_read) == ("classic", 14)
    rows = got.submissions.select(*ROW, "component_in_thousands", "reconciles").rows()
    assert rows == [
        # legal suffix dropped
        (2, "Google", "L5", "Mountain View, CA", "United States", 200000, 150000, 50000, 400000, None, True),
        # non-breaking space; `l4`; stock 4400 is in thousands inside a dollar row
        (3, "Google", "L4", "Seattle, WA", "United States", 380000, 4400000, 200000, 4980000, "stock", True),
        # Facebook is Meta, IC5 = E5; four-part location; 0 means not given, so no breakdown
        (5, "Meta", "E5", "Seoul, KG, South Korea", "South Korea", None, None, None, 300000, None, False),
        # a parenthesized level wins; `United States` spelled out
        (7, "Microsoft", "61", "Cambridge, MA", "United States", 150000, 40000, 20000, 210000, None, True),
        # Level 62 = 62; base above the total: kept, total trusted, parts do not reconcile
        (8, "Microsoft", "62", "Redmond, WA", "United States", 250000, None, None, 190000, None, False),
        # L62 = 62; two parts, not US; an empty stock is null; off by $5,000 > max($1,000, 2%)
        (9, "Microsoft", "62", "Tel Aviv, Israel", "Israel", 140000, None, 35000, 180000, None, False),
        # not on Amazon's ladder: kept as written, unmapped
        (10, "Amazon", "Principal Wizard", "London, EN, United Kingdom", "United Kingdom", 200000, 250000, 50000,
         500000, None, True),
        # region `undefined` dropped
        (12, "Meta", "E5", "Chennai, India", "India", 180000, 130000, 20000, 330000, None, True),
        # Bengaluru is Bangalore; base 0 = not given
        (13, "Google", "L4", "Bangalore, KA, India", "India", None, None, None, 52000, None, False),
        # a location that names only a country
        (14, "Google", "L4", None, "United States", 160000, 80000, 20000, 260000, None, True),
    ]  # fmt: skip
    assert got.submissions["submitted_at"][0] == datetime(2017, 6, 7, 11, 33, 27)
    assert not got.submissions["file_in_thousands"].any()
    assert got.submissions.filter(pl.col("line") == 10)["level_mapped"].to_list() == [False]
    path = str(FIXTURES / "messy_classic.csv")
    assert got.rejected.rows() == [
        (path, 4, "totalyearlycompensation", "missing", None),
        (path, 6, "stockgrantvalue", "not an amount of money", "lots"),
        (path, 11, "title", "missing", None),
        (path, 15, "timestamp", "not a date", "13/45/2019 9:00:00"),
    ]


def test_older_json_in_thousands_as_strings() -> None:
    got = read_salary_file(FIXTURES / "older.json")
    assert (got.shape, got.rows_read) == ("json", 3)
    assert got.submissions.select(*ROW, "reconciles", "file_in_thousands").rows() == [
        (1, "Amazon", "L5", "Seattle, WA", "United States", 150000, 70500, 24500, 245000, True, True),
        (2, "Amazon", "L6", "Seattle, WA", "United States", 170000, 110000, 30000, 310000, True, True),
    ]
    assert got.rejected.drop("file").rows() == [(3, "totalyearlycompensation", "not an amount of money", "abc")]


def test_vendor_band_table_with_and_without_n() -> None:
    got = read_salary_file(FIXTURES / "vendor_bands.csv")
    assert got.shape == "vendor" and got.submissions.height == 0
    v = got.vendor
    assert v.select("line", "company", "title", "level", "location_scope", "location", "country", "n").rows() == [
        (2, "Tier 1 Tech", "Software Engineer", "L5", "city", "San Francisco, CA", "United States", None),
        (3, "Tier 1 Tech", "Software Engineer", "L5", "country", None, "United States", 40),
        (4, "Tier 1 Tech", "Software Engineer", "L6", "all", None, None, None),
    ]
    # thousands: median total_p50 under 1,000
    assert v.row(0, named=True)["total_p90"] == 410000 and v.row(0, named=True)["base_p25"] == 180000
    assert v["as_of"].to_list() == [date(2025, 6, 30)] * 3
    assert got.rejected.drop("file").rows() == [(5, "n", "not a positive whole number", "0")]


def test_unreadable_or_unknown_files_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "people.csv"
    bad.write_text("name,age\nann,3\n")
    with pytest.raises(SalaryFileError, match=r"people.csv: not a salary file"):
        read_salary_file(bad)
    short = tmp_path / "short.csv"
    short.write_text("timestamp,company,totalyearlycompensation\n")
    with pytest.raises(SalaryFileError, match=r"short.csv: missing column 'level'"):
        read_salary_file(short)


def test_load_reports_counts_and_stores_both_kinds(settings: Settings) -> None:
    report = load_salaries(settings, [FIXTURES])
    assert (report.rows_read, report.submissions, report.vendor_bands, report.rejected.height) == (21, 12, 3, 6)
    assert report.unmapped.rows() == [("Amazon", "Principal Wizard", 1)]
    lines = report.lines()
    assert lines[0] == (
        "salaries: 21 rows read, 15 loaded (12 submissions, 3 vendor band rows), 6 rejected, "
        "1 with an unmapped level (1 distinct)"
    )
    assert (
        f"rejected {FIXTURES / 'messy_classic.csv'}:6: field 'stockgrantvalue': not an amount of money: 'lots'" in lines
    )
    assert lines[-1] == "unmapped level Amazon 'Principal Wizard': 1 rows (kept as written)"
    assert pl.read_parquet(settings.reference / "salaries.parquet").height == 12
    assert pl.read_parquet(settings.reference / "salary_vendor_bands.parquet").height == 3


def test_config_company_names_match_by_the_same_rule() -> None:
    assert [company_key(n) for n in ("Facebook", "AWS", "\u00a0google  LLC", "Acme Robotics, Inc.")] == [
        "meta",
        "amazon",
        "google",
        "acme robotics",
    ]


LADDERS = {
    "Amazon": {"SDE I": "L4", "SDE2": "L5", "Sde 2": "L5", "SDE III": "L6", "Senior SDE": "L6", "L5 / SDE2": "L5",
               "SDE III (L6)": "L6", "L 4": "L4", "Level 5": "L5", "Principal SDE": "L7", "5": "L5"},
    "Meta": {"IC5": "E5", "Ic5": "E5", "IC 6": "E6", "E4": "E4", "M1": "M1"},
    "Microsoft": {"62": "62", "L62": "62", "Level 62": "62", "SDE II (61)": "61", "SDE II L62": "62"},
    "Google": {"L3": "L3", "l4": "L4", "5": "L5", "T4": "L4", "Senior SWE": "L5", "Manager (L6)": "L6"},
    "Apple": {"ICT4": "ICT4", "ITC4": "ICT4", "ICT-4": "ICT4", "ICT - 5": "ICT5", "ict3": "ICT3", "ICT`4": "ICT4"},
}  # fmt: skip


def test_level_ladders() -> None:
    pairs = [(c, raw, want) for c, ladder in LADDERS.items() for raw, want in ladder.items()]
    frame = pl.LazyFrame({"company_raw": [p[0] for p in pairs], "level_raw": [p[1] for p in pairs]})
    got = with_levels(with_companies(frame)).collect()
    assert got["level"].to_list() == [p[2] for p in pairs]
    assert got["level_mapped"].all()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(codec="utf-8"), max_size=30), min_size=1, max_size=20))
def test_any_text_normalizes_without_losing_rows(texts: list[str]) -> None:
    frame = pl.LazyFrame({"company_raw": texts, "level_raw": texts, "location_raw": texts})
    got = with_locations(with_levels(with_companies(frame))).collect()
    assert got.height == len(texts)
    # a level is never dropped: null only where the text was empty
    lost = got.filter(pl.col("level").is_null() & pl.col("level_raw").str.contains(r"[A-Za-z0-9]"))
    assert lost.height == 0
    assert set(got["location_scope"].to_list()) <= {"city", "country", "all"}


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 400),
    st.integers(0, 300),
    st.integers(0, 200),
    st.booleans(),
    st.integers(1, 12),
    st.integers(1, 28),
    st.integers(0, 23),
)
def test_money_and_timestamps_round_trip(
    base: int, stock: int, bonus: int, thousands: bool, m: int, d: int, h: int
) -> None:
    scale = 1 if thousands else 1000
    total = base + stock + bonus
    header = "timestamp,company,level,title,totalyearlycompensation,location,yearsofexperience,yearsatcompany,tag,"
    header += "basesalary,stockgrantvalue,bonus"
    line = f'{m}/{d}/2019 {h}:05:09,Acme,L5,Software Engineer,{total * scale},"Austin, TX",1,1,NA,'
    line += f"{base * scale},{stock * scale},{bonus * scale}"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "one.csv"
        path.write_text(f"{header}\n{line}\n")
        got = read_salary_file(path).submissions.row(0, named=True)
    assert got["submitted_at"] == datetime(2019, m, d, h, 5, 9)
    assert got["total"] == total * 1000
    assert got["base"] == base * 1000
    assert got["stock"] == (stock * 1000 or None) and got["bonus"] == (bonus * 1000 or None)
    assert got["reconciles"] and got["component_in_thousands"] is None
