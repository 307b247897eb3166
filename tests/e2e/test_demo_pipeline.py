"""End to end on a small synthetic company, through the CLI and Dagster: exact dollars, reruns, attribution."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
from rich.console import Console

from pipelines import cli
from pipelines.cli import main
from pipelines.config import Settings, load_settings
from pipelines.services.lake import build_window
from pipelines.services.warehouse import build_and_publish
from tests.conftest import duckdb_cli
from warehouse.models import model_graph
from warehouse.report import query

END = "2026-03-10"
DEMO = ["demo", "--engineers", "24", "--days", "7", "--end", END, "--seed", "11"]


def _lake_digests(settings: Settings) -> dict[str, str]:
    root = settings.lake / "usage"
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _warehouse_numbers(settings: Settings) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return (
            con.sql(
                "select engineer_id, month, spend_usd, annualized_run_rate_usd, band_base_p50, output_tokens "
                "from mart.engineer_monthly order by all"
            ).fetchall()
            + con.sql("select * from core.fct_billed_daily order by all").fetchall()
        )


def _lake(settings: Settings, sql: str) -> list[tuple[Any, ...]]:
    """Run `sql` over the lake's Parquet files, exposed as the view `lake`."""
    with duckdb.connect() as con:
        con.read_parquet(str(settings.lake / "usage" / "*" / "*.parquet"), hive_partitioning=True).create_view("lake")
        return con.sql(sql).fetchall()


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, dict[str, Any], str]]:
    """`tokencomp demo` once for the module: its settings, its ground truth and what it printed."""
    mp = pytest.MonkeyPatch()
    root = tmp_path_factory.mktemp("demo_e2e")
    mp.chdir(root)
    mp.setenv("DAGSTER_HOME", str(root / ".dagster"))
    mp.delenv("TOKENCOMP_CONFIG", raising=False)
    printed = io.StringIO()
    cli.out.file = printed
    try:
        assert main(["--data-dir", str(root / "data"), *DEMO]) == 0
    finally:
        cli.out.file = None  # type: ignore[assignment]  # back to following sys.stdout
    try:
        settings = load_settings(data_dir=root / "data")
        truth = json.loads((settings.data_dir / "demo" / "truth.json").read_text())
        yield settings, truth, printed.getvalue()
    finally:
        mp.undo()


def test_billed_dollars_in_the_lake_equal_the_files_exactly(demo_run: tuple[Settings, dict[str, Any], str]) -> None:
    settings, truth, _ = demo_run
    billed = dict(
        _lake(settings, "select provider, sum(billed_cost_usd) from lake where spend_role = 'billed' group by 1")
    )
    assert billed == {p: Decimal(v) for p, v in truth["billed_usd"].items()}
    by_day = _lake(
        settings,
        "select provider, billing_date, sum(billed_cost_usd) from lake where spend_role = 'billed' group by all",
    )
    expected = {
        (p, date.fromisoformat(d), Decimal(v))
        for p, days in truth["billed_usd_by_day"].items()
        for d, v in days.items()
        if Decimal(v) != 0
    }
    assert set(by_day) == expected
    listed = dict(
        _lake(settings, "select provider, sum(list_cost_usd) from lake where spend_role = 'metered' group by 1")
    )
    assert listed == {p: Decimal(v) for p, v in truth["list_usd"].items()}


def test_every_resolvable_principal_goes_to_its_ground_truth_engineer(
    demo_run: tuple[Settings, dict[str, Any], str],
) -> None:
    settings, truth, _ = demo_run
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        seen = con.sql(
            "select distinct principal_kind, principal_id, engineer_id from core.fct_usage_daily "
            "where spend_role <> 'billed'"
        ).fetchall()
    unresolved = set(truth["unknown_keys"]) | set(truth["shared_keys"])
    assert seen
    for kind, value, engineer in seen:
        if value in unresolved:
            assert engineer is None, value
        else:
            assert engineer == truth["principals"][f"{kind}:{value.lower() if kind == 'email' else value}"], value


def test_the_one_malformed_claude_code_line_is_rejected_and_counted(
    demo_run: tuple[Settings, dict[str, Any], str],
) -> None:
    settings, truth, _ = demo_run
    rejects = [json.loads(x) for x in (settings.raw / "rejects.jsonl").read_text().splitlines()]
    [bad] = truth["malformed_lines"]
    assert [(r["file"].split("/", 1)[1], r["line"]) for r in rejects] == [(bad["file"].split("/", 2)[2], bad["line"])]


def test_summary_prints_providers_top_engineers_and_unattributed_share(
    demo_run: tuple[Settings, dict[str, Any], str],
) -> None:
    _, truth, out = demo_run
    assert "Spend per provider" in out and "Top 10 engineers by token spend" in out
    assert "Attribution:" in out and "unknown route(s)" in out and "unallocated billed" in out
    assert "unallocated_usd" not in out
    for engineer in truth["alerts"]["spend_over_base"]:
        assert f"({engineer})" in out  # the tokenmaxxers lead the table


def test_rerunning_the_window_changes_nothing(
    demo_run: tuple[Settings, dict[str, Any], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, _, _ = demo_run
    lake, numbers = _lake_digests(settings), _warehouse_numbers(settings)
    monkeypatch.chdir(settings.data_dir.parent)
    assert main(["--data-dir", str(settings.data_dir), "run", "--from", "2026-03-04", "--to", END]) == 0
    assert _lake_digests(settings) == lake
    assert _warehouse_numbers(settings) == numbers


def test_a_fresh_demo_in_a_pipe_is_byte_identical_and_shows_progress_in_order(
    demo_run: tuple[Settings, dict[str, Any], str], tmp_path: Path
) -> None:
    settings, _, _ = demo_run
    script = Path(sys.executable).parent / "tokencomp"
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / ".dagster")}
    env.pop("TOKENCOMP_CONFIG", None)
    # stdout and stderr in one pipe, as `make demo | tee log` or `2>&1 | less` would see them
    merged = subprocess.run(
        [str(script), *DEMO],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert merged.returncode == 0, merged.stdout
    again = load_settings(data_dir=tmp_path / "data")
    assert _lake_digests(again) == _lake_digests(settings)
    assert _warehouse_numbers(again) == _warehouse_numbers(settings)

    lines = merged.stdout.splitlines()
    finished = [line.split(" (")[0] for line in lines if line.startswith("✓ ")]
    sources = sorted(settings.enabled_sources)
    assert [f.split(":")[0] for f in finished] == [
        "✓ generate roster",
        "✓ generate usage",
        "✓ generate claude_code_logs",
        "✓ generate anthropic_exports",
        "✓ generate openai_exports",
        "✓ generate truth",
        *(f"✓ ingest {s}" for s in sources),
        "✓ reference/files",
        "✓ lake/usage",
        "✓ warehouse",
    ]
    assert "✓ lake/usage: 7 days, 2026-03-04 … 2026-03-10: " in merged.stdout
    assert f"✓ warehouse: {len(model_graph())} models, published " in merged.stdout
    first_table = lines.index(next(line for line in lines if line.startswith("Spend per provider")))
    assert max(i for i, line in enumerate(lines) if line.startswith("✓ ")) < first_table


def test_warehouse_opens_read_only_from_other_processes(demo_run: tuple[Settings, dict[str, Any], str]) -> None:
    settings, _, _ = demo_run
    lines = duckdb_cli(settings.warehouse_path, "select count(*) from mart.engineer_monthly")
    assert int(lines[1]) >= 24


def test_an_identity_conflict_stops_the_run_with_exit_3(
    demo_run: tuple[Settings, dict[str, Any], str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings, truth, _ = demo_run
    key = next(k for k in truth["principals"] if k.startswith("api_key_id:")).split(":", 1)[1]
    aliases = settings.reference / "aliases.parquet"
    before = settings.warehouse_path.read_bytes()
    conflict = tmp_path / "aliases.csv"
    frame = pl.read_parquet(aliases)
    pl.concat(
        [
            frame,
            pl.DataFrame(
                {
                    "engineer_id": ["E9999"],
                    "kind": ["api_key_id"],
                    "value": [key],
                    "valid_from": [date(2020, 1, 1)],
                    "valid_to": [None],
                },
                schema=frame.schema,
            ),
        ]
    ).write_csv(conflict)
    monkeypatch.chdir(settings.data_dir.parent)
    assert main(["--data-dir", str(settings.data_dir), "reference", "load", "aliases", str(conflict)]) == 0
    try:
        code = main(["--data-dir", str(settings.data_dir), "run", "--date", END])
        assert code == 3
        assert "identity conflict: api_key_id" in capsys.readouterr().err
        assert settings.warehouse_path.read_bytes() == before  # nothing half-built was published
        assert main(["--data-dir", str(settings.data_dir), "status"]) == 0
        status = " ".join(capsys.readouterr().out.split())
        assert "FAILURE" in status and "identity conflict: api_key_id" in status
    finally:
        frame.write_parquet(aliases)


def test_marts_that_do_not_sum_to_fct_spend_stop_the_run_with_exit_3(
    demo_run: tuple[Settings, dict[str, Any], str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings, truth, _ = demo_run
    # an alias gives an unknown key to someone who is not on the roster: engineer_monthly cannot show it
    aliases = settings.reference / "aliases.parquet"
    before = settings.warehouse_path.read_bytes()
    frame = pl.read_parquet(aliases)
    stray = pl.DataFrame(
        {
            "engineer_id": ["E9999"],
            "kind": ["api_key_id"],
            "value": [truth["unknown_keys"][0]],
            "valid_from": [date(2020, 1, 1)],
            "valid_to": [None],
        },
        schema=frame.schema,
    )
    bad = tmp_path / "aliases.csv"
    pl.concat([frame, stray]).write_csv(bad)
    monkeypatch.chdir(settings.data_dir.parent)
    assert main(["--data-dir", str(settings.data_dir), "reference", "load", "aliases", str(bad)]) == 0
    try:
        assert main(["--data-dir", str(settings.data_dir), "run", "--date", END]) == 3
        assert "marts do not sum to core.fct_spend: engineer E9999 in 2026-03" in capsys.readouterr().err
        assert settings.warehouse_path.read_bytes() == before  # nothing was published
    finally:
        frame.write_parquet(aliases)


def test_spend_ties_out_to_the_bill_per_provider_scope_and_day(demo_run: tuple[Settings, dict[str, Any], str]) -> None:
    settings, truth, _ = demo_run
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        untied = con.sql(
            "select count(*) from mart.reconciliation where allocated_usd + unallocated_usd <> billed_usd"
        ).fetchall()[0][0]
        rows = con.sql("select count(*) from mart.reconciliation").fetchall()[0][0]
        spend = dict(con.sql("select provider, sum(spend_usd) from core.fct_spend group by 1").fetchall())
    assert untied == 0 and rows > 0
    assert spend == {p: Decimal(v) for p, v in truth["billed_usd"].items()}  # to the 1e-12, not just the cent


def test_claude_code_logs_move_attribution_but_never_the_total(
    demo_run: tuple[Settings, dict[str, Any], str], tmp_path: Path
) -> None:
    settings, truth, _ = demo_run
    without = replace(
        settings,
        data_dir=tmp_path / "data",
        # both observational views of Claude Code: the session logs and the analytics report
        enabled_sources=tuple(
            s for s in settings.enabled_sources if s not in ("claude_code_logs", "anthropic_claude_code")
        ),
    )
    shutil.copytree(settings.raw, without.raw)
    shutil.copytree(settings.reference, without.reference)
    build_window(without, date(2026, 3, 4), date.fromisoformat(END))
    build_and_publish(without)

    def by_attribution(s: Settings) -> dict[str, Decimal]:
        with duckdb.connect(str(s.warehouse_path), read_only=True) as con:
            return dict(con.sql("select attribution, sum(spend_usd) from core.fct_spend group by 1").fetchall())

    with_logs, no_logs = by_attribution(settings), by_attribution(without)
    assert sum(with_logs.values()) == sum(no_logs.values()) == sum(Decimal(v) for v in truth["billed_usd"].values())
    assert "shared_route" not in no_logs and with_logs["shared_route"] > 0
    assert with_logs["unattributed"] + with_logs["shared_route"] == no_logs["unattributed"]
    # only engineers who share a key are ever given a share of a shared route
    sharers = {e for users in truth["shared_keys"].values() for e in users}
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        claimed = {
            r[0]
            for r in con.sql(
                "select distinct engineer_id from core.fct_spend where attribution = 'shared_route'"
            ).fetchall()
        }
    assert claimed and claimed <= sharers


def test_everything_not_attributed_is_listed_in_mart_unattributed(
    demo_run: tuple[Settings, dict[str, Any], str],
) -> None:
    settings, truth, _ = demo_run
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        listed = con.sql("select principal_id, sum(spend_usd) from mart.unattributed group by 1").fetchall()
        unattributed = con.sql("select sum(spend_usd) from core.fct_spend where unattributed").fetchall()[0][0]
    assert sum(s for _, s in listed) == unattributed
    principals = {p for p, _ in listed}
    assert set(truth["unknown_keys"]) <= principals  # nobody can claim keys no one is known to use
    assert principals <= set(truth["unknown_keys"]) | set(truth["shared_keys"]) | {None}


def test_a_backfill_in_small_chunks_writes_the_same_lake(
    demo_run: tuple[Settings, dict[str, Any], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, _, _ = demo_run
    copy = replace(settings, data_dir=tmp_path / "data")
    shutil.copytree(settings.raw, copy.raw)
    shutil.copytree(settings.reference, copy.reference)
    monkeypatch.setattr("pipelines.services.lake.CHUNK_ROWS", 500)  # groups of a few days, one day at the least
    report = build_window(copy, date(2026, 3, 4), date.fromisoformat(END))
    assert _lake_digests(copy) == _lake_digests(settings)
    assert report.rejected_lines == 1  # the demo's one malformed line, counted once across chunks


def _lake_spend_by_principal(settings: Settings) -> dict[str, Decimal]:
    """Metered spend per principal straight from the lake (allocated dollars, or list where no bill)."""
    return dict(
        _lake(
            settings,
            "select principal_id, sum(if(cost_basis = 'allocated', allocated_cost_usd, list_cost_usd)) from lake "
            "where spend_role = 'metered' group by 1",
        )
    )


def test_each_shared_key_is_split_among_its_own_users_at_their_true_list_cost(
    demo_run: tuple[Settings, dict[str, Any], str],
) -> None:
    settings, truth, _ = demo_run
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        shares = con.sql(
            "select principal_id, engineer_id, sum(spend_usd), sum(list_cost_usd) from core.fct_spend "
            "where attribution = 'shared_route' group by all"
        ).fetchall()
    by_key: dict[str, dict[str, tuple[Decimal, Decimal]]] = {}
    for key, engineer, spend, list_usd in shares:
        by_key.setdefault(key, {})[engineer] = (spend, list_usd)
    assert set(by_key) == set(truth["shared_keys"])  # only declared shared keys are ever split
    lake = _lake_spend_by_principal(settings)
    for key, users in truth["shared_keys"].items():
        # only the key's own users get any of it, each exactly at the list cost they ran through it
        assert {e: v[1] for e, v in by_key[key].items()} == {e: Decimal(c) for e, c in users.items() if Decimal(c)}
        # and every dollar of the key is split (every user's usage of it is in their logs)
        assert sum(v[0] for v in by_key[key].values()) == lake[key]
    # a heavy user who also has a personal API key still gets their share of the shared key
    own_key = {eid for k, eid in truth["principals"].items() if k.startswith("api_key_id:apikey_")}
    heavy = [e for users in truth["shared_keys"].values() for e in users if e in own_key]
    assert heavy
    assert all(any(e in users for users in by_key.values()) for e in heavy)


def test_mart_unattributed_holds_unknown_keys_unclaimed_shares_and_unallocated_dollars(
    demo_run: tuple[Settings, dict[str, Any], str],
) -> None:
    settings, truth, _ = demo_run
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        listed = con.sql("select reason, principal_id, sum(spend_usd) from mart.unattributed group by all").fetchall()
        shared = dict(
            con.sql(
                "select principal_id, sum(spend_usd) from core.fct_spend where attribution = 'shared_route' group by 1"
            ).fetchall()
        )
    lake = _lake_spend_by_principal(settings)
    allocated = dict(
        _lake(
            settings,
            "select provider, sum(allocated_cost_usd) from lake where spend_role = 'metered' "
            "and cost_basis = 'allocated' group by 1",
        )
    )
    unknown = {p: s for r, p, s in listed if r == "unknown_route"}
    unclaimed = {p: s for r, p, s in listed if r == "shared_route_unclaimed"}
    unallocated = sum((s for r, _, s in listed if r == "unallocated"), Decimal(0))
    assert {r for r, _, _ in listed} <= {"unknown_route", "shared_route_unclaimed", "unallocated"}
    # 1. every unknown key's full spend, nothing more, nothing less
    assert unknown == {k: lake[k] for k in truth["unknown_keys"] if k in lake}
    # 2. what the shared keys' users do not claim (nothing here: every use of a shared key is in its users' logs)
    assert unclaimed == {k: lake[k] - shared[k] for k in truth["shared_keys"] if lake[k] != shared[k]} == {}
    # 3. the billed dollars no metered row carries: the bill minus what was allocated onto usage
    expected_unallocated = sum(Decimal(v) - allocated.get(p, Decimal(0)) for p, v in truth["billed_usd"].items())
    assert unallocated == expected_unallocated


def test_the_marts_sum_to_fct_spend_per_provider_and_month(demo_run: tuple[Settings, dict[str, Any], str]) -> None:
    settings, _, _ = demo_run
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        books = con.sql(
            "select provider, date_trunc('month', usage_date)::date, sum(spend_usd) from core.fct_spend group by all"
        ).fetchall()
        engineers = con.sql("select month, engineer_id, spend_usd from mart.engineer_monthly").fetchall()
        by_provider = con.sql(
            "select month, engineer_id, provider, spend_usd from mart.engineer_provider_monthly"
        ).fetchall()
        unattributed = con.sql("select month, provider, spend_usd from mart.unattributed").fetchall()
        columns = {r[0] for r in con.sql("describe core.fct_spend").fetchall()}
        reconciliation = {r[0] for r in con.sql("describe mart.reconciliation").fetchall()}
    marts: dict[tuple[str, date], Decimal] = {}
    per_engineer: dict[tuple[date, str], Decimal] = {}
    for month, engineer, provider, spend in by_provider:
        marts[(provider, month)] = marts.get((provider, month), Decimal(0)) + spend
        per_engineer[(month, engineer)] = per_engineer.get((month, engineer), Decimal(0)) + spend
    for month, provider, spend in unattributed:
        marts[(provider, month)] = marts.get((provider, month), Decimal(0)) + spend
    assert marts == {(p, m): s for p, m, s in books}
    # the provider breakdown is exactly engineer_monthly's spend, engineer by engineer
    assert {k: v for k, v in per_engineer.items()} == {(m, e): s for m, e, s in engineers if s}
    assert columns >= {
        "provider", "source", "billing_date", "usage_date", "principal_kind", "principal_id", "engineer_id",
        "attribution", "model", "spend_usd",
    }  # fmt: skip
    assert "unallocated_usd" in reconciliation and "unattributed_usd" not in reconciliation


def test_printed_share_of_base_is_the_stored_one_rounded_once(demo_run: tuple[Settings, dict[str, Any], str]) -> None:
    settings, _, out = demo_run
    # recomputed by another route: plain Python over mart.engineer_monthly
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        rows = con.sql(
            "select engineer_id, spend_usd, days_active, band_base_p50, month from mart.engineer_monthly"
        ).fetchall()
    spend: dict[str, Decimal] = {}
    days: dict[str, int] = {}
    base: dict[str, tuple[Any, int]] = {}
    for engineer, usd, active, band, month in rows:
        spend[engineer] = spend.get(engineer, Decimal(0)) + usd
        days[engineer] = days.get(engineer, 0) + int(active)
        if engineer not in base or month > base[engineer][0]:
            base[engineer] = (month, band)
    printed = {m[1]: m[2] for m in re.finditer(r"\((E\d{4})\) .* (\d+\.\d)%$", out, re.M)}
    assert len(printed) == 10
    for engineer, share in printed.items():
        annualized = (spend[engineer] * 365 / days[engineer]).quantize(Decimal("1E-12"), rounding=ROUND_DOWN)
        exact = annualized / base[engineer][1]
        assert share == str((exact * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)), engineer


def test_share_is_rounded_once_at_display() -> None:
    # E0190 in the README's demo: $22,787.43 a year on a $210,000 base is 10.85…%, not 10.8% (rounded twice)
    assert cli._share(Decimal("22787.43") / 210000) == "10.9%"
    assert cli._share(Decimal("0.108500000000")) == "10.9%"
    assert cli._share(None) == "-"


def test_summary_fits_80_columns_and_keeps_every_money_cell_whole(
    demo_run: tuple[Settings, dict[str, Any], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, _, printed = demo_run
    monkeypatch.chdir(settings.data_dir.parent)
    console = Console(width=80, record=True, file=io.StringIO())
    for part in cli.summary(settings):
        console.print(part, soft_wrap=False)
    text = console.export_text()
    for rendered in (text, printed):
        assert max(len(line) for line in rendered.splitlines()) <= 80
    top = query(settings.warehouse_path, "top_engineers", {"limit": 10})
    for r in top.iter_rows(named=True):
        assert cli._usd(r["spend_usd"]) in text and cli._usd(r["annualized_usd"], cents=False) in text
        assert f"${r['band_base_p50']:,}" in text
    for r in query(settings.warehouse_path, "providers").iter_rows(named=True):
        for col in ("spend_usd", "billed_usd", "list_usd"):
            assert cli._usd(r[col]) in text


def test_the_printed_read_only_command_runs(demo_run: tuple[Settings, dict[str, Any], str], tmp_path: Path) -> None:
    settings, _, printed = demo_run
    command = printed.splitlines()[-1]
    assert "-readonly" in command  # make demo installs the DuckDB CLI beside this Python
    sql = "select count(*) as engineer_months from mart.engineer_monthly;"
    shown = subprocess.run(command, shell=True, cwd=settings.data_dir.parent, input=sql, capture_output=True, text=True)
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        count = con.sql("select count(*) from mart.engineer_monthly").fetchall()[0][0]
    assert shown.returncode == 0 and "engineer_months" in shown.stdout and str(count) in shown.stdout, shown.stderr
    # without the CLI: this Python and its duckdb module
    fallback = cli.read_only_command(settings.warehouse_path, duckdb_cli=tmp_path / "no-duckdb-here")
    code = "print(con.sql('select count(*) from mart.engineer_monthly').fetchall())\n"
    shown = subprocess.run(
        fallback, shell=True, cwd=settings.data_dir.parent, input=code, capture_output=True, text=True
    )
    assert shown.returncode == 0 and f"[({count},)]" in shown.stdout, shown.stderr


# Recorded from the code before the source registry (commit 0268d76, parsers with their SQL in Python
# strings): the same demo must give the same lake files, byte for byte, and the same warehouse numbers.
# Re-recorded when the demo gained its alert roles (issue 11: heavy users and surgers in the random stream,
# steadier tokenmaxxers, everyone else capped at 40% of base a day) and its Levels.fyi-shape salary file, which
# move every demo file on purpose; and when openai_usage's natural key gained the usage endpoint and its
# dimensions (issue 9), which changed its record_ids and no number.
PRE_REGISTRY_LAKE_DIGEST = "f7ba54e9ce5e62a83ac8f7c62d0801e8fc289a9402fdc8dd94a32a98a05340f4"
PRE_REGISTRY_SPEND = [("anthropic", Decimal("16350.342774165000"), 187), ("openai", Decimal("1020.829679244600"), 112)]
PRE_REGISTRY_TOKENS = [
    ("anthropic_cost", None, None),
    ("anthropic_usage", 10008849204, Decimal("18167.047526850000")),
    ("claude_code_logs", 13084418, Decimal("18.438242150000")),
    ("openai_costs", None, None),
    ("openai_usage", 1387430887, Decimal("1074.557557100000")),
]
# the Claude Code report's list cost: its tokens priced at the base tier (it carries no context window), its
# one cache-write figure as 5-minute writes. This company's Claude Code wrote 528,621 tokens to the 1-hour
# cache, which the report prices as (cheaper) 5-minute writes, so its list cost is below the session logs'
# per-request one ($18.438242150000); the tokens are the same
REPORT_LIST_USD = Decimal("17.294293400000")


def _spend_and_tokens(settings: Settings) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        spend = con.sql("select provider, sum(spend_usd), count(*) from core.fct_spend group by all order by all")
        tokens = con.sql(
            "select source, sum(uncached_input_tokens + cache_read_tokens + cache_write_5m_tokens"
            " + cache_write_1h_tokens + output_tokens), sum(list_cost_usd)"
            " from core.fct_usage_daily group by all order by all"
        )
        rows = con.sql("select * exclude (usage_date) from core.fct_spend order by all")
        return spend.fetchall(), tokens.fetchall(), rows.fetchall()


def test_the_five_sources_give_the_lake_and_warehouse_of_before_the_registry(
    demo_run: tuple[Settings, dict[str, Any], str], tmp_path: Path
) -> None:
    # the sources of before the registry alone (the demo run less anthropic_claude_code, added later)
    settings, _, _ = demo_run
    five = replace(
        settings,
        data_dir=tmp_path / "data",
        enabled_sources=tuple(s for s in settings.enabled_sources if s != "anthropic_claude_code"),
    )
    shutil.copytree(settings.raw, five.raw)
    shutil.copytree(settings.reference, five.reference)
    build_window(five, date(2026, 3, 4), date.fromisoformat(END))
    build_and_publish(five)
    digests = _lake_digests(five)
    assert len(digests) == 7
    listing = "".join(f"{name} {digest}\n" for name, digest in digests.items())
    assert hashlib.sha256(listing.encode()).hexdigest() == PRE_REGISTRY_LAKE_DIGEST
    spend, tokens, spend_rows = _spend_and_tokens(five)
    assert spend == PRE_REGISTRY_SPEND
    assert tokens == PRE_REGISTRY_TOKENS

    # with the Claude Code analytics report: observational, so spend does not move by a row or a cent
    spend_all, tokens_all, spend_rows_all = _spend_and_tokens(settings)
    assert spend_all == PRE_REGISTRY_SPEND
    assert spend_rows_all == spend_rows
    (report,) = [t for t in tokens_all if t[0] == "anthropic_claude_code"]
    assert [t for t in tokens_all if t[0] != "anthropic_claude_code"] == PRE_REGISTRY_TOKENS
    # it reports the same Claude Code tokens as the session logs (a different route to the same number)
    assert report == ("anthropic_claude_code", 13084418, REPORT_LIST_USD)
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        roles = con.sql(
            "select spend_role, count(*), count(engineer_id), count(distinct principal_kind)"
            " from core.fct_usage_daily where source = 'anthropic_claude_code' group by all"
        ).fetchall()
    assert [(r[0], r[1] == r[2], r[3]) for r in roles] == [("observational", True, 1)]


def test_every_demo_engineer_month_has_a_band_or_a_stated_reason(
    demo_run: tuple[Settings, dict[str, Any], str],
) -> None:
    settings, _, _ = demo_run
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        months = con.sql("select month, engineer_id from mart.engineer_monthly order by all").fetchall()
        banded = con.sql("select month, engineer_id from core.engineer_band_monthly order by all").fetchall()
        missing = con.sql(
            "select count(*) from core.engineer_band_monthly "
            "where (band_fallback is null) = (band_reason is null) or (band_fallback is not null and base_p50 is null)"
        ).fetchall()
        fallbacks = dict(
            con.sql("select band_fallback, count(*) from core.engineer_band_monthly group by 1").fetchall()
        )
        # a location band's base p50 once more, by DuckDB's own median over the stored submissions (engineers
        # never promoted: a promotion weights two bands by days)
        differ = con.sql(
            """
            select b.engineer_id, b.base_p50, round(median(s.base))::decimal(38, 12) as by_median
            from core.engineer_band_monthly as b
            join core.fct_salary_submission as s
                on s.company = b.band_company and s.level = b.band_level and s.location = b.band_location
                and s.title = b.band_title and s.reconciles and s.month <= b.month
            where b.band_fallback = 'location'
                and b.engineer_id in (select engineer_id from core.dim_engineer group by 1 having count(*) = 1)
            group by all
            having b.base_p50 <> by_median
            """
        ).fetchall()
    assert banded == months  # one row per engineer-month the marts report
    assert missing == [(0,)]  # a band, or else a reason; never both, never neither
    assert fallbacks.get(None, 0) == 0 and fallbacks["location"] > 0
    assert differ == []
