"""Month-end through Dagster: `close` and `reprice` are runs in the instance's history, tagged with their month, and
the monthly `month_close` job freezes the books and writes the month's finance pack, tying out to core.fct_spend."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from pipelines.definitions import build_definitions
from pipelines.defs.months import CLOSED_BOOKS, MONTH_TAG
from pipelines.defs.resources import TokencompResource
from pipelines.runner import COMMAND_TAG, dagster_instance
from tests.e2e.cli_kit import cents, run_cli, warehouse_rows

MONTH = "2026-02"
FEB = "date_trunc('month', {col}) = date '2026-02-01'"
CENT = Decimal("0.01")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A small demo company, 2026-01-25 … 2026-03-05: February is complete and still open."""
    root = tmp_path_factory.mktemp("month_jobs")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        mp.setenv("DAGSTER_HOME", str(root / ".dagster"))
        mp.delenv("TOKENCOMP_CONFIG", raising=False)
        code, _ = run_cli(root, "demo", "--engineers", "10", "--days", "40", "--end", "2026-03-05", "--seed", "3")
        assert code == 0
        yield root


@pytest.fixture
def copy(demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the demo's data dir, with a Dagster home of its own."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / ".dagster"))
    monkeypatch.delenv("TOKENCOMP_CONFIG", raising=False)
    shutil.copytree(demo / "data", tmp_path / "data")
    return tmp_path


def _month_runs(instance: dg.DagsterInstance) -> list[tuple[str, str, str, dg.DagsterRunStatus]]:
    """(job, month tag, command tag, status) of every run tagged with a month, oldest first."""
    runs = instance.get_runs(filters=dg.RunsFilter(tags={MONTH_TAG: MONTH}))
    return [(r.job_name, r.tags[MONTH_TAG], r.tags.get(COMMAND_TAG, ""), r.status) for r in reversed(runs)]


def _materialized(instance: dg.DagsterInstance, run_id: str) -> list[tuple[str, str | None]]:
    return sorted(
        (e.asset_materialization.asset_key.to_user_string(), e.asset_materialization.partition)
        for e in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
        if e.asset_materialization is not None
    )


def test_close_and_reprice_are_runs_in_the_instance_history_tagged_with_their_month(copy: Path) -> None:
    by_provider = warehouse_rows(
        copy,
        f"select provider, sum(spend_usd) from core.fct_spend where {FEB.format(col='billing_date')} "
        "group by 1 order by 1",
    )
    code, out = run_cli(copy, "close", "--month", MONTH)
    assert code == 0
    spend = ", ".join(f"{p} ${s.quantize(CENT):,}" for p, s in by_provider)
    assert out == f"closed {MONTH}: {spend}. Later data for it is posted into the open month as corrections.\n"
    instance = dagster_instance()
    success = dg.DagsterRunStatus.SUCCESS
    assert _month_runs(instance) == [("close", MONTH, "close", success)]
    close_run = instance.get_runs(filters=dg.RunsFilter(job_name="close"))[0]
    assert close_run.tags["dagster/partition"] == MONTH
    assert _materialized(instance, close_run.run_id) == [("exports/closed_books", MONTH)]
    frozen = pl.read_parquet(copy / "data" / "closed" / MONTH / "fct_spend.parquet")
    assert frozen["spend_usd"].sum() == sum(s for _, s in by_provider)

    # refused before any run starts: exit 1, nothing new in the history
    assert run_cli(copy, "close", "--month", MONTH)[0] == 1
    assert run_cli(copy, "reprice", "--month", "2026-01")[0] == 1
    assert run_cli(copy, "close", "--month", "2023-12")[0] == 1  # before the first partition month
    assert len(_month_runs(instance)) == 1

    code, out = run_cli(copy, "reprice", "--month", MONTH)
    assert (code, out) == (0, f"re-priced {MONTH}: nothing changed\n")
    # the month's lake days rebuilt, its books recomputed, the warehouse republished: three runs, in that order
    assert _month_runs(instance) == [
        ("close", MONTH, "close", success),
        ("nightly", MONTH, "reprice", success),
        ("reprice", MONTH, "reprice", success),
        ("nightly", MONTH, "reprice", success),
    ]
    lake, books, publish = reversed(instance.get_runs(filters=dg.RunsFilter(tags={COMMAND_TAG: "reprice"})))
    assert (lake.tags["dagster/asset_partition_range_start"], lake.tags["dagster/asset_partition_range_end"]) == (
        "2026-02-01",
        "2026-02-28",
    )
    assert _materialized(instance, lake.run_id) == [("lake/usage", f"2026-02-{d:02d}") for d in range(1, 29)]
    assert _materialized(instance, books.run_id) == [("exports/closed_books", MONTH)]
    tables = sorted(
        (spec.key.to_user_string(), None)
        for spec in build_definitions().resolve_all_asset_specs()
        if spec.group_name in ("warehouse", "marts")
    )
    assert sorted(_materialized(instance, publish.run_id)) == tables
    assert pl.read_parquet(copy / "data" / "closed" / MONTH / "fct_spend.parquet")["spend_usd"].sum() == sum(
        s for _, s in by_provider
    )
    log = [json.loads(line)["action"] for line in (copy / "data" / "closed" / "months.jsonl").read_text().splitlines()]
    assert log == ["close", "reprice"]


def test_month_close_freezes_the_books_and_writes_the_pack_tying_out_to_core_fct_spend(copy: Path) -> None:
    data = copy / "data"
    defs = build_definitions(TokencompResource(data_dir=str(data)))
    with dg.instance_for_test() as instance:
        result = defs.resolve_job_def("month_close").execute_in_process(partition_key=MONTH, instance=instance)
        assert result.success
        materialized = {
            e.asset_key.to_user_string(): e.step_materialization_data.materialization.metadata
            for e in result.get_asset_materialization_events()
        }
        assert sorted(materialized) == [
            "exports/chargeback",
            "exports/closed_books",
            "exports/focus",
            "exports/reconciliation",
        ]
        # a month with no data yet: nothing frozen, nothing written, and the run still succeeds (a backfill goes on)
        empty = defs.resolve_job_def("month_close").execute_in_process(partition_key="2025-06", instance=instance)
        assert empty.success and empty.get_asset_materialization_events() == []
        assert instance.get_latest_materialization_event(CLOSED_BOOKS).asset_materialization.partition == MONTH
    assert not (data / "closed" / "2025-06").exists() and not (data / "exports" / "2025-06").exists()

    spend = warehouse_rows(copy, f"select sum(spend_usd) from core.fct_spend where {FEB.format(col='billing_date')}")[
        0
    ][0]
    books = pl.read_parquet(data / "closed" / MONTH / "fct_spend.parquet")
    assert books["spend_usd"].sum() == spend
    assert materialized["exports/closed_books"]["spend_usd"].value == str(spend)
    assert materialized["exports/closed_books"]["dagster/row_count"].value == books.height
    assert materialized["exports/closed_books"]["action"].value == "closed"

    # the pack: a new, closed version of the month (the demo wrote v1-provisional), every file in its manifest
    folder = data / "exports" / MONTH / "v2"
    assert {m["snapshot"].value for k, m in materialized.items() if k != "exports/closed_books"} == {str(folder)}
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["status"] == "closed" and sorted(manifest["reports"]) == ["chargeback", "focus", "reconciliation"]
    assert sorted(manifest["files"]) == [
        "chargeback.csv",
        "chargeback.diff.csv",  # against v1-provisional: the status column changed
        "chargeback.parquet",
        "chargeback.xlsx",
        "focus.csv",
        "focus.parquet",
        "reconciliation.csv",
        "reconciliation.parquet",
        "reconciliation.xlsx",
    ]
    chargeback = pl.read_parquet(folder / "chargeback.parquet")
    by_usage_month = warehouse_rows(
        copy, f"select sum(spend_usd) from core.fct_spend where {FEB.format(col='usage_date')}"
    )[0][0]
    assert chargeback["spend_usd"].sum() == cents(by_usage_month)
    assert materialized["exports/chargeback"]["total_spend_usd"].value == str(cents(by_usage_month))
    assert set(chargeback["status"]) == {"closed"}
    billed = warehouse_rows(
        copy, f"select sum(billed_usd) from core.fct_billed_daily where {FEB.format(col='billing_date')}"
    )[0][0]
    assert pl.read_parquet(folder / "reconciliation.parquet")["billed_usd"].sum() == cents(billed)
    assert materialized["exports/reconciliation"]["status"].value == "closed"
    assert pl.read_parquet(folder / "focus.parquet").height > 0
