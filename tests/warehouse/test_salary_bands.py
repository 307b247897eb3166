"""Bands and matching, built by the real SQL models in DuckDB: numpy agreement, point in time, fallbacks, promotions."""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from pipelines.config import BandSettings
from pipelines.services.warehouse import warehouse_params
from tests.fixtures import levels_fyi
from transforms.money import install_money_macros
from transforms.salaries import CLASSIC_COLUMNS, VENDOR_SCHEMA, read_salary_file
from warehouse.build import run_sql, sql_text

MODELS = ("core/fct_salary_submission", "core/dim_salary_band_history", "core/dim_salary_band")


def _build(
    submissions: pl.DataFrame,
    roster: pl.DataFrame | None = None,
    days: tuple[date, date] | None = None,
    benchmark: str = "Acme",
    bands: BandSettings | None = None,
    vendor: pl.DataFrame | None = None,
) -> duckdb.DuckDBPyConnection:
    """Run the band models (and the matching when a roster and usage days are given) on real DuckDB."""
    con = duckdb.connect()
    con.execute("create schema core")
    install_money_macros(con)
    con.register("src_salaries", submissions)
    con.register("src_salary_vendor_bands", vendor if vendor is not None else VENDOR_SCHEMA.to_frame())
    params = warehouse_params(benchmark, bands or BandSettings(peers=("Globex",)))
    for model in MODELS:
        run_sql(con, sql_text(model), params)
    if roster is not None and days is not None:
        con.register("roster_frame", roster)
        con.execute("create table core.dim_engineer as select * from roster_frame")
        con.execute("create table core.fct_usage_daily as select unnest([$a::date, $b::date]) as usage_date", {
            "a": days[0], "b": days[1]})  # fmt: skip
        run_sql(con, sql_text("core/engineer_band_monthly"), params)
    return con


def test_total_bands_with_n_at_least_30_equal_numpy_on_a_realistic_file(tmp_path: Path) -> None:
    path = tmp_path / "levels.csv"
    levels_fyi.write(path)
    loaded = read_salary_file(path)
    assert loaded.rejected.height == 0
    con = _build(loaded.submissions)
    groups: dict[tuple[str, str, str, str], list[int]] = defaultdict(list)
    bases: dict[tuple[str, str, str, str], list[int]] = defaultdict(list)
    for r in loaded.submissions.iter_rows(named=True):
        key = (r["company"], r["title"], r["level"], r["location"])
        groups[key].append(r["total"])
        if r["reconciles"]:
            bases[key].append(r["base"])
    big = {k: v for k, v in groups.items() if len(v) >= 30 and k[3] is not None}
    assert ("Google", "Software Engineer", "L5", "Mountain View, CA") in big and len(big) >= 5
    bands = {
        (r[0], r[1], r[2], r[3]): r[4:]
        for r in con.sql(
            "select company, title, level, location, n, total_p25, total_p50, total_p75, total_p90, base_p50 "
            "from core.dim_salary_band where location_scope = 'city'"
        ).fetchall()
    }
    for key, totals in big.items():
        n, *pcts, base_p50 = bands[key]
        assert n == len(totals)
        # bands are whole USD: numpy's value (float, exact up to its last bit) rounded half up
        expected = [
            Decimal(float(x)).quantize(Decimal(1), "ROUND_HALF_UP") for x in np.percentile(totals, [25, 50, 75, 90])
        ]
        assert pcts == expected, key
        assert base_p50 == Decimal(float(np.percentile(bases[key], 50))).quantize(Decimal(1), "ROUND_HALF_UP")


def _csv(tmp_path: Path, rows: list[tuple[str, str, str, str, int, int]]) -> pl.DataFrame:
    """Submissions (timestamp, company, level, location, total, base) with stock + bonus = total - base."""
    path = tmp_path / "subs.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(CLASSIC_COLUMNS)
        for stamp, company, level, location, total, base in rows:
            w.writerow([stamp, company, level, "Software Engineer", total, location, 3, 1, "NA", base,
                        total - base, 0])  # fmt: skip
    loaded = read_salary_file(path)
    assert loaded.rejected.height == 0
    return loaded.submissions


def test_history_is_point_in_time(tmp_path: Path) -> None:
    rows = [("1/5/2024 10:00:00", "Acme", "L5", "Austin, TX", 100_000 + 1000 * i, 80_000) for i in range(3)]
    rows += [("3/20/2024 10:00:00", "Acme", "L5", "Austin, TX", 300_000, 80_000)]
    con = _build(_csv(tmp_path, rows))
    history = con.sql(
        "select month, valid_until, n, total_p50, as_of from core.dim_salary_band_history "
        "where location_scope = 'city' order by month"
    ).fetchall()
    assert history == [
        (date(2024, 1, 1), date(2024, 3, 1), 3, Decimal(101000), date(2024, 1, 5)),
        (date(2024, 3, 1), None, 4, Decimal(101500), date(2024, 3, 20)),
    ]
    assert con.sql("select n, total_p50 from core.dim_salary_band where location_scope = 'city'").fetchall() == [
        (4, Decimal(101500))
    ]


def _roster(rows: list[tuple[str, str, str, date, date | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "engineer_id": [r[0] for r in rows],
            "level": [r[1] for r in rows],
            "title": [None] * len(rows),
            "location": [r[2] for r in rows],
            "valid_from": [r[3] for r in rows],
            "valid_to": [r[4] for r in rows],
        },
        schema={"engineer_id": pl.String, "level": pl.String, "title": pl.String, "location": pl.String,
                "valid_from": pl.Date, "valid_to": pl.Date},
    )  # fmt: skip


def test_fallback_order_reasons_and_promotion_weighting(tmp_path: Path) -> None:
    day = "1/5/2024 10:00:00"
    rows = [(day, "Acme", "L5", "Austin, TX", 200_000, 150_000)] * 5  # location band, n = 5
    rows += [(day, "Acme", "L5", "Denver, CO", 100_000, 90_000)] * 2  # too few: the US band (n = 7)
    rows += [(day, "Acme", "L6", "London, EN, United Kingdom", 300_000, 200_000)] * 3  # company-wide (n = 6)
    rows += [(day, "Acme", "L6", "Austin, TX", 330_000, 230_000)] * 3
    rows += [(day, "Globex", "L7", "Paris, IDF, France", 400_000, 250_000)] * 5  # only at the peer
    roster = _roster([
        ("E1", "L5", "Austin, TX", date(2023, 1, 1), None),
        ("E2", "5", "Denver, CO", date(2023, 1, 1), None),  # level_map 5 -> L5
        ("E3", "L6", "London office", date(2023, 1, 1), None),  # location_map
        ("E4", "L7", "Austin, TX", date(2023, 1, 1), None),
        ("E5", "L8", "Austin, TX", date(2023, 1, 1), None),
        ("E6", "L5", "Austin, TX", date(2023, 1, 1), date(2024, 4, 11)),  # promoted on 11 April
        ("E6", "L6", "Austin, TX", date(2024, 4, 11), None),
    ])  # fmt: skip
    bands = BandSettings(
        peers=("Globex",), level_map={"5": "L5"}, location_map={"London office": "London, EN, United Kingdom"}
    )
    con = _build(_csv(tmp_path, rows), roster, (date(2024, 4, 1), date(2024, 4, 30)), bands=bands)
    got = {
        r[0]: r[1:]
        for r in con.sql(
            "select engineer_id, band_company, band_level, band_location, band_n, band_fallback, base_p50, "
            "total_p50, band_reason from core.engineer_band_monthly where month = '2024-04-01'"
        ).fetchall()
    }
    us_bases = sorted([150_000] * 5 + [90_000] * 2)
    assert got["E1"] == ("Acme", "L5", "Austin, TX", 5, "location", Decimal(150000), Decimal(200000), None)
    assert got["E2"] == ("Acme", "L5", "United States", 7, "country", Decimal(us_bases[3]), Decimal(200000), None)
    assert got["E3"] == ("Acme", "L6", None, 6, "company", Decimal(215000), Decimal(315000), None)
    assert got["E4"] == ("Globex", "L7", None, 5, "peer", Decimal(250000), Decimal(400000), None)
    assert got["E5"][:6] == (None, None, None, None, None, None)
    assert got["E5"][7] == (
        "no band with n >= 5 for Software Engineer L8 at Austin, TX: not at the benchmark company (location, "
        "country or company-wide), nor at an equivalent level at a peer company"
    )
    # E6: 10 days at L5 (Austin band) and 20 days at L6 (company-wide band), weighted by days, by hand
    base = (Decimal(150000) * 10 + Decimal(215000) * 20) / 30
    total = (Decimal(200000) * 10 + Decimal(315000) * 20) / 30
    assert got["E6"][:5] == ("Acme", "L6", None, 6, "company")
    assert got["E6"][5] == base.quantize(Decimal("1E-12"), "ROUND_DOWN")
    assert got["E6"][6] == total.quantize(Decimal("1E-12"), "ROUND_DOWN")
    assert con.sql("select count(*) from core.engineer_band_monthly").fetchall() == [(6,)]


def test_vendor_band_without_n_meets_the_minimum_and_is_marked(tmp_path: Path) -> None:
    vendor = read_salary_file(Path(__file__).resolve().parents[1] / "fixtures" / "salaries" / "vendor_bands.csv")
    roster = _roster([("E1", "L5", "San Francisco, CA", date(2025, 1, 1), None)])
    subs = _csv(tmp_path, [("1/5/2024 10:00:00", "Other", "L5", "Austin, TX", 1000, 500)])
    con = _build(subs, roster, (date(2025, 7, 1), date(2025, 7, 2)), benchmark="Tier 1 Tech", vendor=vendor.vendor)
    assert con.sql(
        "select band_company, band_n, band_vendor, band_fallback, base_p50, total_p90, band_as_of "
        "from core.engineer_band_monthly"
    ).fetchall() == [("Tier 1 Tech", None, True, "location", Decimal(195000), Decimal(410000), date(2025, 6, 30))]
    # the month before the vendor table's date has no band yet, and says why
    con2 = _build(subs, roster, (date(2025, 5, 1), date(2025, 5, 2)), benchmark="Tier 1 Tech", vendor=vendor.vendor)
    assert con2.sql("select band_reason from core.engineer_band_monthly").fetchall() == [
        ("no submissions of the benchmark company dated up to the end of the month",)
    ]


def test_wage_growth_index_is_off_by_default_and_recorded_when_on(tmp_path: Path) -> None:
    rows = [("6/1/2023 10:00:00", "Acme", "L5", "Austin, TX", 100_000, 80_000)]
    rows += [("6/1/2024 10:00:00", "Acme", "L5", "Austin, TX", 200_000, 150_000)]
    subs = _csv(tmp_path, rows)
    query = (
        "select total_p50, base_p50, wage_index_year from core.dim_salary_band "
        "where location_scope = 'city' and company = 'Acme'"
    )
    assert _build(subs).sql(query).fetchall() == [(Decimal(150000), Decimal(115000), None)]
    lifted = BandSettings(wage_growth=True, wage_index={2022: "95", 2023: "100", 2024: "110"})
    # 2023's 100,000 and 80,000 are lifted by 110/100; 2024's are not: medians (110,000 + 200,000) / 2 ...
    assert _build(subs, bands=lifted).sql(query).fetchall() == [(Decimal(155000), Decimal(119000), 2024)]
    history = _build(subs, bands=lifted).sql(
        "select month, wage_index_year from core.dim_salary_band_history where location_scope = 'city' order by 1"
    )
    assert history.fetchall() == [(date(2023, 6, 1), 2024), (date(2024, 6, 1), 2024)]
