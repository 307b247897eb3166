"""The compensation marts on a hand-made quarter: run rate, short window, shares, comp mix, leaderboard, team
and chargeback rows and every alert rule, each figure recomputed here in plain Python (Decimal, truncated at
12 decimals as the warehouse stores it)."""

from __future__ import annotations

import csv
import hashlib
import hmac
import shutil
from datetime import UTC, date, datetime
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest

from pipelines.config import BandSettings
from pipelines.services.reference import KINDS
from pipelines.services.warehouse import warehouse_params
from transforms.salaries import CLASSIC_COLUMNS, read_salary_file
from transforms.schema import USAGE_SCHEMA, conform
from warehouse.analyst import AnalystLeakError, build_analyst
from warehouse.build import BuildInputs, build

JAN, FEB, MAR = date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)
# (engineer or None for an unknown key, day, list USD, uncached input, cache reads)
SPEND: list[tuple[str | None, date, str, int, int]] = [
    (None, date(2026, 1, 1), "1", 10, 0),  # unknown keys on the first and last day: the data covers the quarter
    (None, date(2026, 3, 31), "1", 10, 0),
    ("E1", date(2026, 1, 10), "10000", 1000, 3000),
    ("E1", date(2026, 2, 10), "10000", 1000, 3000),
    ("E1", date(2026, 3, 10), "40000", 1000, 3000),
    ("E2", date(2026, 3, 26), "2000", 1000, 0),
    ("E4", date(2026, 2, 5), "40", 1000, 1000),
    ("E4", date(2026, 3, 5), "400", 1000, 1000),
]
ROSTER = [
    # E1 a tokenmaxxer, E2 joins on 2026-03-25 (a short window), E3 spends nothing, E4 has no band
    ("E1", "Ann Lee", "A", "CC-1", "L5", "San Francisco, CA", date(2024, 1, 1)),
    ("E2", "Bo Chen", "A", "CC-1", "L4", "London, England, United Kingdom", date(2026, 3, 25)),
    ("E3", "Cy Diaz", "B", "CC-2", "L4", "London, England, United Kingdom", date(2024, 1, 1)),
    ("E4", "Di Evans", "B", "CC-2", "L9", "London, England, United Kingdom", date(2024, 1, 1)),
]
BANDS = {  # (level, location): base, stock, bonus, total (one submission each, min_n 1: every percentile is it)
    ("L5", "San Francisco, CA"): (200000, 150000, 50000, 400000),
    ("L4", "London, England, United Kingdom"): (100000, 30000, 20000, 150000),
}
BASE = {"E1": Decimal(200000), "E2": Decimal(100000), "E3": Decimal(100000)}
TOTAL = {"E1": Decimal(400000), "E2": Decimal(150000), "E3": Decimal(150000)}
TWELVE = Decimal("1E-12")


def trunc(x: Decimal) -> Decimal:
    return x.quantize(TWELVE, rounding=ROUND_DOWN)


def usage_row(i: int, engineer: str | None, day: date, usd: str, uncached: int, cached: int) -> dict[str, object]:
    return {
        "source": "openai_usage",
        "spend_role": "metered",
        "provider": "openai",
        "model": "gpt-5",
        "billing_date": day,
        "usage_date": day,
        "period_start": datetime(day.year, day.month, day.day, tzinfo=UTC),
        "principal_kind": "api_key_id",
        "principal_id": f"key_{engineer or 'unknown'}",
        "scope_kind": "project",
        "scope_id": "p1",
        "record_id": f"r{i}",
        "list_cost_usd": Decimal(usd),
        "cost_basis": "list",
        "uncached_input_tokens": uncached,
        "cache_read_tokens": cached,
        "cache_write_5m_tokens": 0,
        "cache_write_1h_tokens": 0,
        "output_tokens": 10,
    }


@pytest.fixture(scope="module")
def marts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The warehouse of the quarter above (list-priced spend: no bill, so spend = list)."""
    root = tmp_path_factory.mktemp("comp")
    files = []
    for i, (engineer, day, usd, uncached, cached) in enumerate(SPEND):
        part = root / "lake" / f"billing_date={day}"
        part.mkdir(parents=True)
        frame = conform(pl.DataFrame([usage_row(i, engineer, day, usd, uncached, cached)])).collect()
        frame.drop("billing_date").write_parquet(part / "part-0.parquet")
        files.append(part / "part-0.parquet")
    refs = {k: s.to_frame() for k, s in KINDS.items()}
    refs["roster"] = pl.DataFrame(
        [
            {
                "engineer_id": e,
                "email": f"{e.lower()}@acme.example",
                "name": name,
                "team": team,
                "cost_centre": cc,
                "level": level,
                "title": "Software Engineer",
                "location": loc,
                "valid_from": start,
            }
            for e, name, team, cc, level, loc, start in ROSTER
        ],
        schema=KINDS["roster"],
    )
    refs["aliases"] = pl.DataFrame(
        {
            "engineer_id": ["E1", "E2", "E4"],
            "kind": ["api_key_id"] * 3,
            "value": ["key_E1", "key_E2", "key_E4"],
            "valid_from": [None] * 3,
            "valid_to": [None] * 3,
        },
        schema=KINDS["aliases"],
    )
    salaries = root / "levels.csv"  # the classic Levels.fyi shape, read by the real loader
    with salaries.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(CLASSIC_COLUMNS)
        for (level, loc), (base, stock, bonus, total) in BANDS.items():
            w.writerow(["6/1/2025 10:00:00", "Acme", level, "Software Engineer", total, loc, 5, 2, "NA", base, stock,
                        bonus])  # fmt: skip
    loaded = read_salary_file(salaries)
    assert loaded.rejected.height == 0
    refs["salaries"] = loaded.submissions
    path = root / "w.duckdb"
    build(BuildInputs(files, USAGE_SCHEMA, refs, warehouse_params("Acme", BandSettings(min_n=1))), path)
    return path


def rows(path: Path, sql: str) -> list[dict[str, Any]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.sql(sql).pl().to_dicts()


def run_rate(spend: Decimal, days: int) -> Decimal:
    return trunc(spend * 365 / days)


def test_run_rate_is_trailing_90_days_over_roster_days_and_a_joiner_has_a_short_window(marts: Path) -> None:
    got = {(r["engineer_id"], r["month"]): r for r in rows(marts, "select * from mart.engineer_monthly")}
    assert sorted({e for e, _ in got}) == ["E1", "E2", "E3", "E4"]
    # E1 in March: the 90 days 2026-01-01..03-31, all on the roster, $60,000 in them
    e1 = got[("E1", MAR)]
    assert (e1["run_rate_spend_usd"], e1["run_rate_days"], e1["short_window"]) == (Decimal(60000), 90, False)
    assert e1["annualized_run_rate_usd"] == run_rate(Decimal(60000), 90) == Decimal("243333.333333333333")
    assert e1["spend_usd"] == Decimal(40000) and e1["days_active"] == 31
    # in January the window starts where the data does: 31 days, $10,000
    assert got[("E1", JAN)]["annualized_run_rate_usd"] == run_rate(Decimal(10000), 31)
    assert got[("E1", FEB)]["annualized_run_rate_usd"] == run_rate(Decimal(20000), 59)
    # E2 joined on 2026-03-25: 7 roster days, fewer than 14
    e2 = got[("E2", MAR)]
    assert (e2["run_rate_days"], e2["short_window"], e2["days_active"]) == (7, True, 7)
    assert e2["annualized_run_rate_usd"] == run_rate(Decimal(2000), 7)
    assert ("E2", FEB) not in got
    # a non-spender is there with zeros
    assert (got[("E3", MAR)]["spend_usd"], got[("E3", MAR)]["annualized_run_rate_usd"]) == (0, 0)


def test_shares_of_base_and_fully_loaded_comp(marts: Path) -> None:
    got = {(r["engineer_id"], r["month"]): r for r in rows(marts, "select * from mart.engineer_monthly")}
    e1 = got[("E1", MAR)]
    rr = Decimal("243333.333333333333")
    assert (e1["band_base_p50"], e1["band_total_p50"], e1["band_stock_p50"], e1["band_bonus_p50"]) == (
        200000, 400000, 150000, 50000
    )  # fmt: skip
    assert e1["spend_share_of_base"] == trunc(rr / 200000) == Decimal("1.216666666666")
    assert e1["total_comp_with_tokens_usd"] == 400000 + rr
    assert e1["compute_share"] == trunc(rr / (400000 + rr))
    assert (e1["band_fallback"], e1["band_reason"], e1["band_n"]) == ("location", None, 1)
    assert (got[("E3", MAR)]["band_fallback"], got[("E3", MAR)]["band_location"]) == (
        "location", "London, England, United Kingdom"
    )  # fmt: skip
    e4 = got[("E4", MAR)]
    assert e4["band_company"] is None and e4["spend_share_of_base"] is None and e4["compute_share"] is None
    assert (e4["band_fallback"], e4["band_reason"]) == (
        None,
        "no band with n >= 1 for Software Engineer L9 at London, England, United Kingdom: not at the benchmark "
        "company (location, country or company-wide), nor at an equivalent level at a peer company",
    )


def quantile(values: list[Decimal], pct: int) -> Decimal:
    """numpy's linear percentile, in Decimal, the interpolated part truncated at 12 decimals."""
    xs = sorted(values)
    pos = (len(xs) - 1) * pct
    lo, frac = pos // 100, pos % 100
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + trunc((xs[hi] - xs[lo]) * frac / 100)


def test_comp_mix_gives_components_at_p50_and_p90_of_engineers_and_a_sentence(marts: Path) -> None:
    got = {
        (r["grouping"], r["group_name"]): r for r in rows(marts, f"select * from mart.comp_mix where month = '{MAR}'")
    }
    assert sorted(got) == [("company", "all engineers"), ("level", "L4"), ("level", "L5"), ("level", "L9"),
                           ("team", "A"), ("team", "B")]  # fmt: skip
    company = got[("company", "all engineers")]
    assert (company["engineers"], company["engineers_without_band"]) == (4, 1)  # E4 has no band
    rr = {"E1": run_rate(Decimal(60000), 90), "E2": run_rate(Decimal(2000), 7), "E3": Decimal(0)}
    share = {e: trunc(rr[e] / (TOTAL[e] + rr[e])) for e in rr}
    assert company["base_p50"] == quantile(list(BASE.values()), 50) == 100000
    assert company["base_p90"] == quantile(list(BASE.values()), 90) == 180000
    assert company["stock_p90"] == quantile([Decimal(150000), Decimal(30000), Decimal(30000)], 90) == 126000
    assert company["tokens_p50"] == quantile(list(rr.values()), 50) == rr["E2"]
    assert company["tokens_p90"] == quantile(list(rr.values()), 90) == Decimal("215523.809523809523")
    assert company["compute_share_p50"] == quantile(list(share.values()), 50)
    assert company["compute_share_p90"] == quantile(list(share.values()), 90)
    n50 = round(1 / company["compute_share_p50"])
    n90 = round(1 / company["compute_share_p90"])
    assert (company["one_dollar_in_p50"], company["one_dollar_in_p90"]) == (n50, n90) == (3, 2)
    assert company["sentence"] == (
        f"one dollar in {n50} of fully loaded pay goes to compute at the median engineer; "
        f"one in {n90} at the 90th percentile"
    )
    assert got[("level", "L9")]["sentence"] == "no engineer with a band"
    team_b = got[("team", "B")]  # E3 (no spend) and E4 (no band)
    assert team_b["sentence"] == "no dollar of fully loaded pay goes to compute"


def test_team_monthly_and_chargeback(marts: Path) -> None:
    teams = {r["team"]: r for r in rows(marts, f"select * from mart.team_monthly where month = '{MAR}'")}
    assert {t: (r["engineers"], r["spenders"], r["spend_usd"]) for t, r in teams.items()} == {
        "A": (2, 2, Decimal(42000)),
        "B": (2, 1, Decimal(400)),
    }
    rr1, rr2 = run_rate(Decimal(60000), 90), run_rate(Decimal(2000), 7)
    assert teams["A"]["spend_share_of_base"] == trunc((rr1 + rr2) / 300000)
    charged = rows(marts, "select month, cost_centre, provider, model_family, spend_usd, attributed_usd, "
                          "unattributed_usd, engineers from mart.chargeback order by all")  # fmt: skip
    assert [tuple(r.values()) for r in charged] == [
        (JAN, "(unassigned)", "openai", "gpt-5", Decimal(1), Decimal(0), Decimal(1), 0),
        (JAN, "CC-1", "openai", "gpt-5", Decimal(10000), Decimal(10000), Decimal(0), 1),
        (FEB, "CC-1", "openai", "gpt-5", Decimal(10000), Decimal(10000), Decimal(0), 1),
        (FEB, "CC-2", "openai", "gpt-5", Decimal(40), Decimal(40), Decimal(0), 1),
        (MAR, "(unassigned)", "openai", "gpt-5", Decimal(1), Decimal(0), Decimal(1), 0),
        (MAR, "CC-1", "openai", "gpt-5", Decimal(42000), Decimal(42000), Decimal(0), 2),
        (MAR, "CC-2", "openai", "gpt-5", Decimal(400), Decimal(400), Decimal(0), 1),
    ]
    # every dollar of the books is charged somewhere
    assert sum(r["spend_usd"] for r in charged) == sum(Decimal(s[2]) for s in SPEND)


def test_leaderboard_ranks_by_spend_share_of_base_and_cache_efficiency(marts: Path) -> None:
    board = rows(marts, f"select * from mart.leaderboard where month = '{MAR}' order by spend_rank")
    assert [
        (r["engineer_id"], r["spend_rank"], r["share_of_base_rank"], r["cache_efficiency_rank"]) for r in board
    ] == [
        ("E1", 1, 1, 1),  # $40,000; 121.7% of base; 3,000 of 4,000 input tokens from cache
        ("E2", 2, 2, 3),  # $2,000; 104.3% (short window); no cache reads
        ("E4", 3, None, 2),  # $400; no band; 1,000 of 2,000
    ]
    assert [r["cache_efficiency"] for r in board] == [Decimal("0.75"), Decimal(0), Decimal("0.5")]
    assert board[1]["spend_share_of_base"] == trunc(run_rate(Decimal(2000), 7) / 100000)


def test_each_alert_rule_fires_exactly_where_its_threshold_is_met(marts: Path) -> None:
    got = rows(marts, "select engineer_id, rule, month, value, threshold, since, short_window, detail from mart.alerts")
    fired = {(r["engineer_id"], r["rule"], r["month"]): r for r in got}
    assert sorted(fired) == [
        ("E1", "month_over_month_jump", MAR),  # $40,000 in 31 days after $10,000 in 28: 3.61x a day
        ("E1", "run_rate_half_base", JAN),  # $10,000 over 31 days is $117,742 a year: 58.9% of $200,000
        ("E1", "run_rate_half_base", FEB),
        ("E1", "run_rate_half_base", MAR),
        ("E1", "spend_over_base", MAR),  # $243,333 a year: 121.7%
        ("E2", "run_rate_half_base", MAR),  # 7 roster days: short window
        ("E2", "spend_over_base", MAR),
    ]  # E4: $400 after $40 is 9x, but the month before is under $50
    half = fired[("E1", "run_rate_half_base", JAN)]
    assert half["value"] == trunc(run_rate(Decimal(10000), 31) / 200000) == Decimal("0.588709677419")
    assert (half["threshold"], half["since"], half["short_window"]) == (Decimal("0.5"), JAN, False)
    assert fired[("E1", "run_rate_half_base", MAR)]["since"] == JAN
    assert fired[("E1", "spend_over_base", MAR)]["since"] == MAR
    jump = fired[("E1", "month_over_month_jump", MAR)]
    assert jump["value"] == trunc(Decimal(40000) * 28 / (Decimal(10000) * 31)) and jump["threshold"] == 3
    assert jump["detail"] == "spend $40,000.00 over 31 days is 3.6x the daily rate of 2026-02 ($10,000.00 over 28 days)"
    short = fired[("E2", "spend_over_base", MAR)]
    assert short["short_window"] is True
    assert short["detail"] == (
        "annualized run rate $104,286 a year is 104.3% of base $100,000 "
        "(7 roster days of the trailing 90; short window: few days behind the rate)"
    )


def _hmac(kind: str, value: str) -> str:
    prefix = {"engineer": "eng_", "name": "person_", "email": "email_"}[kind]
    return prefix + hmac.new(b"k3y", f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:16]


@pytest.mark.parametrize(("k", "teams"), [(2, ["A", "B"]), (3, [])])
def test_analyst_copy_has_keyed_pseudonyms_and_drops_groups_below_k(
    marts: Path, tmp_path: Path, k: int, teams: list[str]
) -> None:
    path = tmp_path / "analyst.duckdb"
    report = build_analyst(marts, path, b"k3y", k)
    got = rows(path, f"select engineer_id, name, email, team from mart.engineer_monthly where month = '{MAR}'")
    assert got == [
        {
            "engineer_id": _hmac("engineer", e),
            "name": _hmac("name", n),
            "email": _hmac("email", f"{e.lower()}@acme.example"),
            "team": t,
        }
        for e, n, t, *_ in ROSTER
    ]
    assert rows(path, "select distinct engineer_id from mart.alerts order by 1") == sorted(
        [{"engineer_id": _hmac("engineer", "E1")}, {"engineer_id": _hmac("engineer", "E2")}],
        key=lambda r: r["engineer_id"],
    )
    # every team and level has 1 or 2 engineers: k = 2 keeps the pairs, k = 3 leaves only the company row
    assert [
        r["team"] for r in rows(path, f"select team from mart.team_monthly where month = '{MAR}' order by 1")
    ] == teams
    mix = rows(path, f"select grouping, group_name from mart.comp_mix where month = '{MAR}' order by all")
    assert mix == [{"grouping": "company", "group_name": "all engineers"}] + [
        {"grouping": g, "group_name": n} for g, n in [("level", "L4"), ("team", "A"), ("team", "B")] if k <= 2
    ]
    assert report.pseudonymized == 12  # 4 ids, 4 names, 4 emails
    with duckdb.connect(str(path), read_only=True) as con:
        assert {s for (s,) in con.sql("select distinct schema_name from duckdb_tables()").fetchall()} == {"mart"}


def test_analyst_copy_refuses_a_cell_that_still_names_someone(marts: Path, tmp_path: Path) -> None:
    leaky = tmp_path / "w.duckdb"
    shutil.copy(marts, leaky)
    with duckdb.connect(str(leaky)) as con:
        con.execute("create table mart.notes as select 'ask Bo Chen about it' as note")
    with pytest.raises(AnalystLeakError, match=r"mart\.notes\.note still names a person in 1 cell"):
        build_analyst(leaky, tmp_path / "analyst.duckdb", b"k3y", 5)
