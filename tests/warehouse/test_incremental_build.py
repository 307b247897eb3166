"""Incremental warehouse builds: a nightly build whose only changes are lake days starts from the published file
and recomputes only those days and months, and its tables equal a full rebuild's, table by table, row for row."""

from __future__ import annotations

import os
import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.config import Settings, load_settings
from pipelines.services.lake import partition_path
from pipelines.services.months import close_month
from pipelines.services.warehouse import build_and_publish, build_inputs
from tests.conftest import built_once
from tests.warehouse.test_warehouse_build import ROSTER, _build_world, _write
from warehouse.analyst import build_analyst
from warehouse.analyst_delta import can_update, key_fingerprint
from warehouse.build import BuildReport, TieOutError, build
from warehouse.incremental import Grain, analyst_reusable, grain, read_state, state_path
from warehouse.models import model_graph


@pytest.fixture
def world(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The sample exports of tests/warehouse/test_warehouse_build.py (its session-wide build), this test's copy."""
    built = built_once(tmp_path_factory, "warehouse_world", _build_world)
    shutil.copyfile(built / "tokencomp.toml", "tokencomp.toml")
    shutil.copytree(built / "data", settings.data_dir, symlinks=True)
    return load_settings(data_dir=settings.data_dir)


DAY_GRAIN = ("core/fct_usage_daily", "core/spend_computed", "core/fct_billed_daily", "core/fct_spend")


def _rewrite(path: Path, frame: pl.DataFrame) -> None:
    """Replace a lake partition file whole, as the lake build does (write aside, then os.replace)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name("_part.parquet")
    frame.write_parquet(scratch)
    os.replace(scratch, path)


def _tables(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every table of a warehouse file with all its rows, sorted (a table's rows are a multiset; the order of
    rows inside a DuckDB table is not part of the contract), plus every table and column COMMENT."""
    with duckdb.connect(str(path), read_only=True) as con:
        names = [
            f"{s}.{t}"
            for s, t in con.sql(
                "select schema_name, table_name from duckdb_tables() where database_name = current_database() "
                "order by all"
            ).fetchall()
        ]
        out = {name: sorted(con.table(name).fetchall(), key=repr) for name in names}
        out["comments"] = con.sql(
            "select table_name, column_name, comment from duckdb_columns() where database_name = current_database() "
            "order by all"
        ).fetchall()
    return out


def _assert_same_as_full(world: Settings, tmp_path: Path) -> None:
    """The published (incremental) warehouse equals a full build of the same inputs, table by table, row for row."""
    full = tmp_path / "full" / "warehouse.duckdb"
    build(build_inputs(world), full)
    published, rebuilt = _tables(world.warehouse_path), _tables(full)
    assert list(published) == list(rebuilt)
    for table, rows in rebuilt.items():
        assert published[table] == rows, table
    assert len(rebuilt["core.fct_spend"]) > 10 and len(rebuilt["mart.focus"]) > 10  # it compares something


def _day(world: Settings, day: date) -> pl.DataFrame:
    return pl.read_parquet(partition_path(world, day))


def _shifted(frame: pl.DataFrame, days: int) -> pl.DataFrame:
    """The same usage `days` later (every date of the rows moves)."""
    by = timedelta(days=days)
    return frame.with_columns(
        pl.col("usage_date") + by,
        pl.col("period_start") + by,
        pl.col("period_end") + by,
        pl.col("record_id") + f"-{days}",
    )


def _four_days(world: Settings) -> None:
    """The sample lake (2026-03-02: 19 rows of five sources, billed and metered; 03-04: one row) plus the 03-02
    usage again on 03-03 and 03-05."""
    for days in (1, 3):
        _rewrite(partition_path(world, date(2026, 3, 2 + days)), _shifted(_day(world, date(2026, 3, 2)), days))


def _incremental(report: BuildReport, days: list[date]) -> None:
    assert report.plan.incremental, report.plan.reason
    assert list(report.plan.days) == days
    assert set(report.recomputed) >= set(DAY_GRAIN)


def test_a_new_day_recomputes_that_day_only_and_equals_a_full_rebuild(world: Settings, tmp_path: Path) -> None:
    _four_days(world)
    new = date(2026, 3, 5)
    kept = tmp_path / "kept.parquet"
    os.replace(partition_path(world, new), kept)
    first = build_and_publish(world)
    assert not first.plan.incremental
    assert first.plan.reason == "full build: no previous build recorded for the published file"
    _rewrite(partition_path(world, new), pl.read_parquet(kept))
    report = build_and_publish(world)
    _incremental(report, [new])
    # what the build read as it went: the day-grain models read the new day's partition alone
    assert report.reads["core/fct_usage_daily"] == (new,)
    # a whole, lake-derived dimension and the tie-out check read every day (the check vouches for the result)
    everything = tuple(date(2026, 3, d) for d in range(2, 6))
    assert report.reads["core/dim_model"] == everything
    assert report.reads["checks/tie_out"] == everything
    assert set(report.reads) == {"core/fct_usage_daily", "core/dim_model", "checks/tie_out"}
    assert sorted(report.rebuilt + report.recomputed + report.kept) == sorted(m.name for m in model_graph())
    _assert_same_as_full(world, tmp_path)


def test_a_corrected_redelivery_of_a_past_day_replaces_its_rows(world: Settings, tmp_path: Path) -> None:
    _four_days(world)
    build_and_publish(world)
    past = date(2026, 3, 2)
    corrected = _day(world, past).with_columns(
        pl.col("output_tokens") + 1000, pl.col("uncached_input_tokens") * 2, pl.col("principal_id").str.to_uppercase()
    )
    _rewrite(partition_path(world, past), corrected)
    report = build_and_publish(world)
    _incremental(report, [past])
    assert report.reads["core/fct_usage_daily"] == (past,)
    with duckdb.connect(str(world.warehouse_path), read_only=True) as con:
        tokens = con.sql("select sum(output_tokens) from core.fct_usage_daily where billing_date = '2026-03-02'")
        assert tokens.fetchall() == [(int(corrected["output_tokens"].sum()),)]
    _assert_same_as_full(world, tmp_path)


def test_a_removed_day_leaves_no_rows_of_it(world: Settings, tmp_path: Path) -> None:
    _four_days(world)
    build_and_publish(world)
    gone = date(2026, 3, 3)
    partition_path(world, gone).unlink()
    report = build_and_publish(world)
    _incremental(report, [gone])
    assert report.reads["core/fct_usage_daily"] == ()
    with duckdb.connect(str(world.warehouse_path), read_only=True) as con:
        left = con.sql("select count(*) from core.fct_spend where billing_date = '2026-03-03'").fetchall()
    assert left == [(0,)]
    _assert_same_as_full(world, tmp_path)


def test_a_new_month_adds_its_month_rows(world: Settings, tmp_path: Path) -> None:
    _four_days(world)
    build_and_publish(world)
    april = date(2026, 4, 1)
    _rewrite(partition_path(world, april), _shifted(_day(world, date(2026, 3, 5)), 27))
    report = build_and_publish(world)
    _incremental(report, [april])
    assert report.plan.months == (date(2026, 3, 1), date(2026, 4, 1))
    assert {"mart/chargeback", "mart/engineer_provider_monthly", "mart/focus"} <= set(report.recomputed)
    with duckdb.connect(str(world.warehouse_path), read_only=True) as con:
        months = con.sql("select distinct month from mart.chargeback order by month").fetchall()
    assert months == [(date(2026, 3, 1),), (april,)]
    _assert_same_as_full(world, tmp_path)


def test_new_days_after_a_closed_month_keep_its_frozen_books_and_corrections(world: Settings, tmp_path: Path) -> None:
    _four_days(world)
    build_and_publish(world)
    close_month(world, date(2026, 3, 1))
    april = date(2026, 4, 1)
    _rewrite(partition_path(world, april), _shifted(_day(world, date(2026, 3, 5)), 27))
    assert build_and_publish(world).plan.reason == "full build: the closed months' books changed"  # closing froze books
    # a lake day of the closed month changes: a full build posts the difference into April as a correction
    march = date(2026, 3, 3)
    _rewrite(partition_path(world, march), _day(world, march).with_columns(pl.col("output_tokens") + 7))
    assert build_and_publish(world).plan.reason == "full build: lake days of closed month 2026-03 changed"
    with duckdb.connect(str(world.warehouse_path), read_only=True) as con:
        corrections = con.sql("select billing_date, sum(output_tokens) from core.fct_spend where charge_class = "
                              "'correction' group by all").fetchall()  # fmt: skip
    metered = _day(world, march).filter(pl.col("spend_role") == "metered").height
    assert corrections == [(april, 7 * metered)]  # 7 more output tokens on each metered row
    # the open month's first day is re-delivered and a day added: its corrections stay as they are
    _rewrite(partition_path(world, april), _day(world, april).with_columns(pl.col("uncached_input_tokens") + 1))
    second = date(2026, 4, 2)
    _rewrite(partition_path(world, second), _shifted(_day(world, date(2026, 3, 4)), 29))
    report = build_and_publish(world)
    _incremental(report, [april, second])
    _assert_same_as_full(world, tmp_path)


def test_reference_data_changes_force_a_full_build(world: Settings, tmp_path: Path) -> None:
    _four_days(world)
    build_and_publish(world)
    _write(world, "roster", ROSTER + "E5,new@acme.example,New,data,CC-102,L4,Software Engineer,x,2024-01-01,\n")
    report = build_and_publish(world)
    assert report.plan.reason == "full build: the reference data changed"
    assert not report.recomputed
    _assert_same_as_full(world, tmp_path)
    assert build_and_publish(world, full=True).plan.reason == "full build asked for"


def test_a_failed_blocking_check_on_an_incremental_build_publishes_nothing(world: Settings, tmp_path: Path) -> None:
    _four_days(world)
    build_and_publish(world)
    published = world.warehouse_path.read_bytes()
    recorded = state_path(world.warehouse_path).read_text()
    day = date(2026, 3, 3)
    good = _day(world, day)
    # a billed line claiming more allocated dollars than any metered row carries: the tie-out fails
    broken = good.with_columns(
        pl.when(pl.col("spend_role") == "billed")
        .then(pl.col("allocated_cost_usd") + 1)
        .otherwise(pl.col("allocated_cost_usd"))
        .alias("allocated_cost_usd")
    )
    assert (broken["spend_role"] == "billed").any()
    _rewrite(partition_path(world, day), broken)
    with pytest.raises(TieOutError, match="does not tie out"):
        build_and_publish(world)
    assert world.warehouse_path.read_bytes() == published
    assert state_path(world.warehouse_path).read_text() == recorded
    assert read_state(world.warehouse_path) is not None  # still describes the published file
    _rewrite(partition_path(world, day), good)
    report = build_and_publish(world)
    _incremental(report, [day])
    _assert_same_as_full(world, tmp_path)


def test_a_published_file_the_state_does_not_describe_means_a_full_build(world: Settings) -> None:
    _four_days(world)
    build_and_publish(world)
    os.utime(world.warehouse_path, ns=(0, 0))  # rewritten by someone else since it was recorded
    assert read_state(world.warehouse_path) is None
    assert build_and_publish(world).plan.reason == "full build: no previous build recorded for the published file"


def test_the_analyst_file_is_updated_with_the_recomputed_rows_and_equals_a_full_one(
    world: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(world.pseudonym_key_env, "a-test-key")
    _four_days(world)
    new = date(2026, 3, 5)
    kept = tmp_path / "kept.parquet"
    os.replace(partition_path(world, new), kept)
    build_and_publish(world)
    before = world.analyst_path.stat().st_mtime_ns
    _rewrite(partition_path(world, new), pl.read_parquet(kept))
    past = date(2026, 3, 2)
    _rewrite(partition_path(world, past), _day(world, past).with_columns(pl.col("output_tokens") + 5))
    report = build_and_publish(world)
    _incremental(report, [past, new])
    assert world.analyst_path.stat().st_mtime_ns != before
    full = tmp_path / "full" / "analyst.duckdb"
    build_analyst(world.warehouse_path, full, b"a-test-key", world.privacy_k)
    published, rebuilt = _tables(world.analyst_path), _tables(full)
    assert list(published) == list(rebuilt)
    for table, rows in rebuilt.items():
        assert published[table] == rows, table
    assert len(rebuilt["mart.focus"]) > 10
    # the same rows pseudonymized: nobody's email is left in the file
    assert not any("@acme.example" in repr(rows) for rows in published.values())


def test_another_pseudonym_key_rebuilds_the_analyst_file_whole(
    world: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(world.pseudonym_key_env, "a-test-key")
    _four_days(world)
    build_and_publish(world)
    previous = read_state(world.warehouse_path)
    monkeypatch.setenv(world.pseudonym_key_env, "another-key")
    assert not analyst_reusable(previous, world.analyst_path, key_fingerprint(b"another-key", world.privacy_k))
    day = date(2026, 3, 4)
    _rewrite(partition_path(world, day), _day(world, day).with_columns(pl.col("output_tokens") + 1))
    assert build_and_publish(world).plan.incremental
    full = tmp_path / "full" / "analyst.duckdb"
    build_analyst(world.warehouse_path, full, b"another-key", world.privacy_k)
    assert _tables(world.analyst_path) == _tables(full)


def test_the_analyst_build_reads_only_the_core_tables_its_update_carries() -> None:
    # were the analyst SQL to read another core table, its update could not see it: full analyst builds then
    assert can_update()


def test_a_rerun_with_nothing_changed_recomputes_no_day(world: Settings, tmp_path: Path) -> None:
    _four_days(world)
    build_and_publish(world)
    report = build_and_publish(world)
    _incremental(report, [])
    assert report.reads["core/fct_usage_daily"] == ()
    assert report.plan.months == ()
    _assert_same_as_full(world, tmp_path)


# mart.engineer_monthly, the bands it reads and the marts read from it: month grain, over a trailing window
MONTHLY = (
    "core/engineer_band_monthly",
    "mart/engineer_monthly",
    "mart/leaderboard",
    "mart/comp_mix",
    "mart/team_monthly",
)
KEY = "a-test-key"


def _season(world: Settings, days: tuple[date, ...] = (date(2026, 1, 10), date(2026, 2, 10), date(2026, 4, 5))) -> None:
    """The sample lake (2026-03-02 and 03-04) plus the 03-02 usage again on each of `days` (by default four
    months of data, 2026-01-10 to 04-05, with a gap of weeks between days)."""
    sample = _day(world, date(2026, 3, 2))
    for day in days:
        _rewrite(partition_path(world, day), _shifted(sample, (day - date(2026, 3, 2)).days))


def _same_analyst_as_full(world: Settings, tmp_path: Path) -> None:
    """The published (updated) analyst file equals a full analyst build of the published warehouse."""
    full = tmp_path / "full" / "analyst.duckdb"
    build_analyst(world.warehouse_path, full, KEY.encode(), world.privacy_k)
    published, rebuilt = _tables(world.analyst_path), _tables(full)
    assert list(published) == list(rebuilt)
    for table, rows in rebuilt.items():
        assert published[table] == rows, table
    assert len(rebuilt["mart.engineer_monthly"]) >= 9  # it compares something


def _monthly(world: Settings, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(world.warehouse_path), read_only=True) as con:
        return con.sql(sql).fetchall()


def _months(*months: str) -> tuple[date, ...]:
    return tuple(date.fromisoformat(f"{m}-01") for m in months)


def _by_month(report: BuildReport, months: tuple[date, ...]) -> None:
    """The build recomputed the monthly marts for their changed months (none of them whole): engineer_monthly
    and its readers `months`, and kept the tables that read no lake data as they were."""
    assert report.plan.incremental, report.plan.reason
    assert set(MONTHLY) <= set(report.recomputed)
    assert report.months["mart/engineer_monthly"] == months
    for reader in ("mart/leaderboard", "mart/comp_mix", "mart/team_monthly"):
        assert report.months[reader] == months
    assert {"core/dim_engineer", "core/dim_alias", "core/dim_salary_band"} <= set(report.kept)
    assert "mart/alerts" in report.rebuilt


def test_a_new_day_inside_the_last_month_recomputes_that_month_and_brings_in_who_joined(
    world: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(world.pseudonym_key_env, KEY)
    _season(world, (date(2026, 1, 10), date(2026, 2, 10)))
    new = date(2026, 3, 4)
    kept = tmp_path / "kept.parquet"
    os.replace(partition_path(world, new), kept)
    build_and_publish(world)
    joined = "select engineer_id, days_active from mart.engineer_monthly where month = '2026-03-01' order by 1"
    # E4 joins on 03-03, after the data's last day (03-02): not on March's roster yet
    assert _monthly(world, joined) == [("E1", 2), ("E2", 2), ("E3", 2)]
    _rewrite(partition_path(world, new), pl.read_parquet(kept))
    report = build_and_publish(world)
    # March's rows only: the last day moved within March, and January and February's run rates end before it
    _by_month(report, _months("2026-03", "2026-04", "2026-05", "2026-06"))
    assert report.months["core/engineer_band_monthly"] == _months("2026-03")
    assert _monthly(world, joined) == [("E1", 4), ("E2", 4), ("E3", 4), ("E4", 2)]
    _assert_same_as_full(world, tmp_path)
    _same_analyst_as_full(world, tmp_path)


def test_a_new_day_in_a_new_month_adds_that_month_and_completes_the_last(
    world: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(world.pseudonym_key_env, KEY)
    _season(world, (date(2026, 1, 10), date(2026, 2, 10)))
    build_and_publish(world)
    _season(world, (date(2026, 4, 5),))
    report = build_and_publish(world)
    # the last day moved from 03-04 to 04-05: March is now whole, April is new; the run rates of January and
    # February end before either day
    _by_month(report, _months("2026-03", "2026-04", "2026-05", "2026-06", "2026-07"))
    assert report.months["core/engineer_band_monthly"] == _months("2026-03", "2026-04")
    e1 = "select month, days_active, run_rate_days from mart.engineer_monthly where engineer_id = 'E1' order by 1"
    # first day 2026-01-10: the trailing 90 days of March end 03-31 and start 01-01, of April 04-05 and 01-06
    assert _monthly(world, e1) == [
        (date(2026, 1, 1), 22, 22),
        (date(2026, 2, 1), 28, 50),
        (date(2026, 3, 1), 31, 81),
        (date(2026, 4, 1), 5, 86),
    ]
    assert _monthly(world, "select distinct month from mart.leaderboard order by 1")[-1] == (date(2026, 4, 1),)
    _assert_same_as_full(world, tmp_path)
    _same_analyst_as_full(world, tmp_path)


def test_a_changed_day_weeks_back_changes_the_run_rates_of_the_months_after_it(
    world: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(world.pseudonym_key_env, KEY)
    _season(world)
    build_and_publish(world)
    rates = "select month, run_rate_spend_usd from mart.engineer_monthly where engineer_id = 'E1' order by 1"
    before = _monthly(world, rates)
    # 02-10 (54 days before the last day, 04-05) re-delivered with the 03-04 usage instead: less spend
    day = date(2026, 2, 10)
    _rewrite(partition_path(world, day), _shifted(_day(world, date(2026, 3, 4)), (day - date(2026, 3, 4)).days))
    report = build_and_publish(world)
    # every month whose trailing 90 days hold 02-08..02-12 (billing day and time zone): February to May
    _by_month(report, _months("2026-02", "2026-03", "2026-04", "2026-05"))
    assert report.months["core/engineer_band_monthly"] == _months("2026-02")
    after = _monthly(world, rates)
    assert after[0] == before[0]  # January's window ends before 02-10
    assert all(a[1] < b[1] for a, b in zip(after[1:], before[1:], strict=True))  # February to April's hold it
    _assert_same_as_full(world, tmp_path)
    _same_analyst_as_full(world, tmp_path)


def test_a_backfilled_earlier_day_moves_the_first_day_of_the_data(
    world: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(world.pseudonym_key_env, KEY)
    _season(world)
    build_and_publish(world)
    _season(world, (date(2025, 12, 20),))
    report = build_and_publish(world)
    # the first day moved from 2026-01-10 to 2025-12-20: every month whose days or trailing 90 days reach
    # 12-18..01-10 (run_rate_days counts the days the data covers), up to April
    _by_month(report, _months("2025-12", "2026-01", "2026-02", "2026-03", "2026-04"))
    days = "select month, days_active, run_rate_days from mart.engineer_monthly where engineer_id = 'E2' order by 1"
    assert _monthly(world, days) == [
        (date(2025, 12, 1), 12, 12),
        (date(2026, 1, 1), 31, 43),
        (date(2026, 2, 1), 28, 71),
        (date(2026, 3, 1), 31, 90),
        (date(2026, 4, 1), 5, 90),
    ]
    _assert_same_as_full(world, tmp_path)
    _same_analyst_as_full(world, tmp_path)


def test_a_removed_last_day_drops_its_month_from_the_monthly_marts(
    world: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(world.pseudonym_key_env, KEY)
    _season(world)
    build_and_publish(world)
    partition_path(world, date(2026, 4, 5)).unlink()
    report = build_and_publish(world)
    _by_month(report, _months("2026-03", "2026-04", "2026-05", "2026-06", "2026-07"))
    for table in ("engineer_monthly", "leaderboard", "comp_mix", "team_monthly"):
        assert _monthly(world, f"select max(month) from mart.{table}") == [(date(2026, 3, 1),)], table
    _assert_same_as_full(world, tmp_path)
    _same_analyst_as_full(world, tmp_path)


def test_the_first_lake_days_after_an_empty_lake_rebuild_the_monthly_marts_whole(
    world: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(world.pseudonym_key_env, KEY)
    _season(world)
    aside = tmp_path / "aside"
    shutil.move(partition_path(world, date(2026, 3, 2)).parent.parent, aside)
    partition_path(world, date(2026, 3, 2)).parent.parent.mkdir(parents=True)
    build_and_publish(world)
    assert _monthly(world, "select count(*) from mart.engineer_monthly") == [(0,)]
    shutil.rmtree(partition_path(world, date(2026, 3, 2)).parent.parent)
    shutil.move(aside, partition_path(world, date(2026, 3, 2)).parent.parent)
    report = build_and_publish(world)
    assert report.plan.incremental, report.plan.reason
    # no data window before, one now: every month is new, so the monthly marts are rebuilt whole
    assert set(MONTHLY) <= set(report.rebuilt)
    _assert_same_as_full(world, tmp_path)
    _same_analyst_as_full(world, tmp_path)


def test_a_grain_header_reads_its_trailing_window_and_edges() -> None:
    header = "-- grain: month month; trailing 90 days; edges core.fct_usage_daily(usage_date)\ncreate table x as"
    assert grain(header) == Grain("month", "month", reach=89, edges=("core.fct_usage_daily", "usage_date"))
    assert grain("-- grain: day billing_date where charge_class is null") == Grain(
        "day", "billing_date", "charge_class is null"
    )
    with pytest.raises(ValueError, match="unreadable grain header clause"):
        grain("-- grain: month month; trailing ninety days")
    with pytest.raises(ValueError, match="month-grain clauses"):
        grain("-- grain: day billing_date; trailing 90 days")


def test_the_months_a_changed_day_reaches_follow_the_window_and_the_time_zone() -> None:
    plain, trailing = Grain("month", "month"), Grain("month", "month", reach=89)
    # 03-01 may hold usage of 02-28 (reporting time zone): February and March
    assert plain.months([date(2026, 3, 1)]) == _months("2026-02", "2026-03")
    # ...and every month whose 90 days ending at its last day hold 02-27..03-03: up to May (05-31 - 89 = 03-03)
    assert trailing.months([date(2026, 3, 1)]) == _months("2026-02", "2026-03", "2026-04", "2026-05")
    # a month-grain table it reads recomputed April: April, and the months whose window reaches into it
    assert trailing.months([], [_months("2026-04")]) == _months("2026-04", "2026-05", "2026-06", "2026-07")
    # the last day moved from 03-04 to 04-05 (no time zone: the edge is a usage day)
    assert plain.months([], [], [(date(2026, 3, 4), date(2026, 4, 5))]) == _months("2026-03", "2026-04")
    assert plain.months([]) == ()
