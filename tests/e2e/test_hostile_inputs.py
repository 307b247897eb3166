"""Issue 7 on the reproduction company (`demo --engineers 30 --days 10 --end 2025-03-10`), through the CLI
and real Dagster runs: poison files, counts at their maxima, symlinks, a torn manifest, the time zone,
rows outside the partitions, and paths that are no regular file."""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import polars as pl
import pytest

from pipelines import cli
from pipelines.cli import main
from pipelines.config import Settings, load_settings
from pipelines.runner import run_nightly
from pipelines.services.ingest import read_manifest, read_quarantine
from tests.conftest import SAMPLES, demo_data, genai_price

DEMO = ["demo", "--engineers", "30", "--days", "10", "--end", "2025-03-10"]
WINDOW = ["run", "--from", "2025-03-01", "--to", "2025-03-10"]
MAX_COUNT = 10**10
DAY = 1741132800  # 2025-03-05T00:00:00Z


@pytest.fixture(scope="module")
def demo_company(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reproduction company, built once (shared with tests/e2e/test_claude_code_report.py); each test works
    on its own copy."""
    return demo_data(tmp_path_factory, DEMO)


@dataclass
class Company:
    """A copy of the demo company with its own Dagster instance; `tc(...)` runs the CLI on it."""

    root: Path
    settings: Settings

    def tc(self, *args: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        cli.out.file, cli.err.file = out, err
        try:
            code = main(["--data-dir", str(self.settings.data_dir), *args])
        finally:
            cli.out.file = cli.err.file = None  # type: ignore[assignment]
        return code, out.getvalue(), err.getvalue()

    def land(self, source: str, name: str, body: Any) -> Path:
        path = self.settings.landing / source / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(body, bytes):
            path.write_bytes(body)
        else:
            path.write_text(body if isinstance(body, str) else json.dumps(body))
        return path

    def config(self, text: str) -> None:
        (self.root / "tokencomp.toml").write_text(text)


@pytest.fixture
def company(demo_company: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Company]:
    shutil.copytree(demo_company, tmp_path / "data", symlinks=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / ".dagster"))
    monkeypatch.delenv("TOKENCOMP_CONFIG", raising=False)
    yield Company(tmp_path, load_settings(data_dir=tmp_path / "data"))


def _openai_usage_page(start: Any, **result: Any) -> dict[str, Any]:
    row = {
        "object": "organization.usage.completions.result",
        "input_tokens": 10,
        "input_cached_tokens": 0,
        "output_tokens": 5,
        "num_model_requests": 1,
        "project_id": "proj_hostile",
        "model": "gpt-4o-2024-08-06",
        **result,
    }
    return {"object": "page", "data": [{"start_time": start, "end_time": DAY + 86400, "results": [row]}]}


def _lines(text: str, prefix: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(prefix)]


# --- item 3: poison files; item 11: a quarantine during a run is printed ----------------------------------


def test_poison_files_are_quarantined_with_file_and_field_and_the_run_goes_on(company: Company) -> None:
    page = (SAMPLES / "openai_usage_completions_example.json").read_bytes()
    company.land("openai_usage", "truncated.json.gz", gzip.compress(page)[:100])
    company.land("openai_usage", "garbage.json.zst", bytes(range(256)) * 8)
    company.land("openai_usage", "plain.json.gz", page)
    company.land("openai_usage", "y99999.json", _openai_usage_page("99999-03-05T00:00:00Z"))
    company.land("openai_usage", "millis.json", _openai_usage_page(DAY * 1000))
    good = company.land("openai_usage", "good.json", _openai_usage_page(DAY, input_tokens=777))
    cc = '{"type":"assistant","timestamp":"99999-01-01T00:00:00Z","message":{"id":"m1","model":"claude-sonnet-4-5",'
    cc += '"usage":{"input_tokens":1,"output_tokens":1}}}\n'
    company.land("claude_code_logs", "anika.gupta@acme.example/projects/p/s.jsonl", cc * 1)

    code, _, err = company.tc(*WINDOW)

    assert code == 0, err
    assert sorted(_lines(err, "quarantined")) == [
        "quarantined  claude_code_logs  anika.gupta@acme.example/projects/p/s.jsonl: 1 of 1 lines rejected (over "
        "50%); first: anika.gupta@acme.example/projects/p/s.jsonl:1 field 'timestamp': out of range (1970 to 2099)",
        "quarantined  openai_usage  openai_usage/garbage.json.zst: openai_usage/garbage.json.zst: not a readable "
        "zstd file (zstd decompressor error: Unknown frame descriptor)",
        "quarantined  openai_usage  openai_usage/millis.json: openai_usage/millis.json: field 'data[0].start_time': "
        "out of range (1970 to 2099; Unix time in seconds, not milliseconds)",
        "quarantined  openai_usage  openai_usage/plain.json.gz: openai_usage/plain.json.gz: not a readable gzip "
        "file (Not a gzipped file (b'{\\n'))",
        "quarantined  openai_usage  openai_usage/truncated.json.gz: openai_usage/truncated.json.gz: not a readable "
        "gzip file (Compressed file ended before the end-of-stream marker was reached)",
        "quarantined  openai_usage  openai_usage/y99999.json: openai_usage/y99999.json: field 'data[0].start_time': "
        "out of range (1970 to 2099)",
    ]
    assert read_manifest(company.settings).filter(pl.col("name") == "openai_usage/good.json").height == 1
    assert not good.exists() and not any(p.is_file() for p in company.settings.landing.rglob("*"))
    with duckdb.connect(str(company.settings.warehouse_path), read_only=True) as con:
        assert con.execute(
            "select sum(uncached_input_tokens) from core.fct_usage_daily where scope_id = 'proj_hostile'"
        ).fetchone() == (777,)
    # the next night is clean: nothing left to fail on, nothing printed again
    code, _, err = company.tc(*WINDOW)
    assert code == 0 and _lines(err, "quarantined") == []
    code, out, _ = company.tc("status")
    assert code == 0 and "Quarantined files: 6" in out


# --- item 4: counts at their maxima pass every later stage -------------------------------------------------


def test_counts_at_their_maxima_run_through_the_whole_pipeline(company: Company) -> None:
    m = MAX_COUNT
    anthropic = {
        "data": [
            {
                "starting_at": "2025-03-05T00:00:00Z",
                "ending_at": "2025-03-06T00:00:00Z",
                "results": [
                    {
                        "account_id": account,
                        "model": "claude-opus-4-1-20250805",
                        "uncached_input_tokens": m,
                        "cache_read_input_tokens": m,
                        "cache_creation": {"ephemeral_5m_input_tokens": m, "ephemeral_1h_input_tokens": m},
                        "output_tokens": m,
                        "workspace_id": None,
                    }
                    for account in ("user_hostile_unknown_a", "user_hostile_unknown_b")
                ],
            }
        ],
        "has_more": False,
    }
    company.land("anthropic_usage", "max.json", anthropic)
    company.land(
        "openai_usage",
        "max.json",
        _openai_usage_page(
            DAY, model="o1-pro", input_tokens=m, input_cached_tokens=0, output_tokens=m, num_model_requests=m
        ),
    )
    # an engineer's own logs claim the unknown routes' opus spend: the attribution split at its largest
    line = {
        "type": "assistant",
        "timestamp": "2025-03-05T12:00:00Z",
        "message": {
            "id": "msg_max",
            "model": "claude-opus-4-1-20250805",
            "usage": {
                "input_tokens": m,
                "output_tokens": m,
                "cache_read_input_tokens": m,
                "cache_creation": {"ephemeral_5m_input_tokens": m, "ephemeral_1h_input_tokens": m},
            },
        },
    }
    company.land("claude_code_logs", "anika.gupta@acme.example/projects/p/max.jsonl", json.dumps(line) + "\n")

    code, _, err = company.tc(*WINDOW)

    assert code == 0, err
    assert _lines(err, "quarantined") == []
    with duckdb.connect(str(company.settings.warehouse_path), read_only=True) as con:
        opus = con.execute(
            "select sum(uncached_input_tokens), sum(output_tokens), count(*) from core.fct_usage_daily "
            "where principal_id like 'user_hostile_unknown_%'"
        ).fetchone()
        assert opus == (2 * m, 2 * m, 2)
        # the list cost, computed once more by genai-prices itself
        opus_list = con.execute(
            "select sum(list_cost_usd) from core.fct_usage_daily where principal_id like 'user_hostile_unknown_%'"
        ).fetchone()
        at = datetime(2025, 3, 5, tzinfo=UTC)
        assert opus_list == (2 * genai_price("anthropic", "claude-opus-4-1-20250805", at, (m, m, m, m, m)),)
        o1_list = con.execute(
            "select sum(list_cost_usd) from core.fct_usage_daily where scope_id = 'proj_hostile'"
        ).fetchone()
        assert o1_list == (genai_price("openai", "o1-pro", at, (m, 0, 0, 0, m)),)
        o1 = con.execute(
            "select sum(output_tokens), sum(cache_read_tokens), sum(uncached_input_tokens) from core.fct_usage_daily "
            "where scope_id = 'proj_hostile'"
        ).fetchone()
        assert o1 == (m, 0, m)
        spend = con.execute("select sum(spend_usd) from core.fct_spend").fetchone()
        assert spend is not None and spend[0] > 0
        months = con.execute("select sum(output_tokens) from mart.engineer_monthly").fetchone()
        assert months is not None and months[0] >= 0


def test_counts_no_later_stage_can_hold_are_rejected_at_their_line_and_the_run_goes_on(company: Company) -> None:
    big = 2**63 - 1
    page = json.loads((SAMPLES / "anthropic_usage_report_messages_grouped_page1.json").read_text())
    page["data"][0]["starting_at"], page["data"][0]["ending_at"] = "2025-03-05T00:00:00Z", "2025-03-06T00:00:00Z"
    page["data"][0]["results"][0].update(uncached_input_tokens=big, cache_read_input_tokens=big, output_tokens=big)
    company.land("anthropic_usage", "huge.json", page)
    company.land("openai_usage", "huge.json", _openai_usage_page(DAY, input_tokens=big, input_cached_tokens=-1))
    company.land("openai_usage", "fine.json", _openai_usage_page(DAY, input_tokens=99))

    code, _, err = company.tc(*WINDOW)

    assert code == 0, err
    rejects = [json.loads(line) for line in (company.settings.raw / "rejects.jsonl").read_text().splitlines()]
    assert sorted((r["file"], r["line"], r["field"], r["reason"]) for r in rejects if "huge" in r["file"]) == [
        ("anthropic_usage/huge.json", 1, "uncached_input_tokens", "out of range (over 10000000000)"),
    ]
    # its only record rejected, the OpenAI page passes the rejected-share threshold: quarantined, field named
    assert sorted(_lines(err, "quarantined")) == [
        "quarantined  openai_usage  openai_usage/huge.json: 1 of 1 lines rejected (over 50%); first: "
        "openai_usage/huge.json:1 field 'input_tokens': out of range (over 10000000000)"
    ]
    # the rerun of those days works too: nothing that landed can fail a later stage
    assert company.tc(*WINDOW)[0] == 0


# --- item 5: a gzip bomb is capped, memory stays bounded, scratch is swept -----------------------------------


def _peak_rss_kib(args: list[str], env: dict[str, str]) -> tuple[int, int, str]:
    """Exit code, peak RSS (KiB) of that one process, and what it printed (stdout and stderr)."""
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    printed = proc.stdout.read() if proc.stdout else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_maxrss, printed


def test_a_gzip_bomb_is_quarantined_with_the_cap_named_in_bounded_memory(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.json.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as fh:
        block = b"\0" * (1 << 20)
        for _ in range(512):  # 512 MiB of zeros in about half a megabyte
            fh.write(block)
    assert bomb.stat().st_size < 1_000_000
    small = tmp_path / "small.json"
    small.write_text(json.dumps(_openai_usage_page(DAY)))
    (tmp_path / "tokencomp.toml").write_text("[ingest]\nmax_file_bytes = 2000000\nmax_inflated_bytes = 8000000\n")
    data = tmp_path / "data"
    # a killed earlier run left scratch behind: the next start sweeps it
    leftover = data / "_tmp" / "inflate-999999999-dead"
    leftover.mkdir(parents=True)
    (leftover / "x.json").write_bytes(b"\0" * 1000)
    env = {**os.environ, "TOKENCOMP_CONFIG": str(tmp_path / "tokencomp.toml")}
    tc = [sys.executable, "-m", "pipelines.cli", "--data-dir", str(data), "ingest", "openai_usage"]

    code_small, rss_small, _ = _peak_rss_kib([*tc, str(small)], env)
    code, rss_bomb, err = _peak_rss_kib([*tc, str(bomb)], env)

    assert code_small == 0 and code == 1
    assert "inflates to more than ingest.max_inflated_bytes (8,000,000 bytes)" in err
    assert rss_bomb < rss_small + 100 * 1024  # KiB: the 512 MiB never sit in memory
    assert list((data / "_tmp").iterdir()) == []
    [entry] = read_quarantine(load_settings(tmp_path / "tokencomp.toml", data_dir=data)).rows(named=True)
    assert entry["name"] == "bomb.json.gz"


def test_the_issue_bomb_under_the_default_caps_is_stopped_by_its_inflation_ratio(tmp_path: Path) -> None:
    """The issue's bomb (about 2 MB inflating to 2 GiB of zeros) stays far under the 100 GiB default cap: the
    ratio guard stops it after 64 MiB, so memory stays near a small page's, with the ratio named."""
    bomb = tmp_path / "bomb.json.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as fh:
        block = b"\0" * (1 << 20)
        for _ in range(2048):
            fh.write(block)
    small = tmp_path / "small.json"
    small.write_text(json.dumps(_openai_usage_page(DAY)))
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if k != "TOKENCOMP_CONFIG"}
    tc = [sys.executable, "-m", "pipelines.cli", "--data-dir", str(data), "ingest", "openai_usage"]

    code_small, rss_small, _ = _peak_rss_kib([*tc, str(small)], env)
    code, rss_bomb, err = _peak_rss_kib([*tc, str(bomb)], env)

    assert code_small == 0 and code == 1
    size = bomb.stat().st_size
    assert f"inflates to more than ingest.max_inflation_ratio (200 times its {size:,} bytes): a compression bomb" in err
    assert rss_bomb < rss_small + 200 * 1024  # KiB: stopped after 64 MiB of the 2 GiB, never held in memory
    assert list((data / "_tmp").iterdir()) == []


def test_a_file_over_the_file_cap_is_quarantined_with_the_cap_named(company: Company) -> None:
    company.config("[ingest]\nmax_file_bytes = 1000\n")
    big = company.land("openai_usage", "big.json", json.dumps(_openai_usage_page(DAY)) + " " * 2000)
    size = big.stat().st_size
    code, _, err = company.tc(*WINDOW)
    assert code == 0
    assert _lines(err, "quarantined") == [
        f"quarantined  openai_usage  openai_usage/big.json: file is {size:,} bytes, over ingest.max_file_bytes "
        "(1,000 bytes)"
    ]


# --- item 8: symlinks in landing --------------------------------------------------------------------------


def test_a_symlink_out_of_landing_is_refused_unread_and_a_cli_path_may_be_one(company: Company) -> None:
    outside = company.root / "outside"
    outside.mkdir()
    secret = outside / "secret.json"
    secret.write_text(json.dumps(_openai_usage_page(DAY, input_tokens=4242)))
    secret.chmod(0o600)
    folder = company.settings.landing / "openai_usage"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "link.json").symlink_to(secret)
    (folder / "linked_dir").symlink_to(outside, target_is_directory=True)
    inside = company.land("openai_usage", "inside.json", _openai_usage_page(DAY, input_tokens=31))
    (folder / "alias.json").symlink_to(inside)
    company.land("openai_usage", "a..b.json", _openai_usage_page(DAY, input_tokens=5))

    code, _, err = company.tc(*WINDOW)

    assert code == 0, err
    assert sorted(_lines(err, "quarantined")) == [
        "quarantined  openai_usage  openai_usage/a..b.json: file name contains '..'",
        "quarantined  openai_usage  openai_usage/link.json: symlink to a file outside landing/ (not read)",
        "quarantined  openai_usage  openai_usage/linked_dir: symlink to a folder outside landing/ (not read)",
    ]
    names = read_manifest(company.settings).filter(pl.col("source") == "openai_usage")["name"].to_list()
    # the link inside landing reads like its target (the two are one delivery); the link out of it is not read
    assert "openai_usage/alias.json" in names and "openai_usage/link.json" not in names
    stored = [p for p in company.settings.quarantine.rglob("*") if p.is_file() and p.name != "quarantine.jsonl"]
    assert all(b"4242" not in p.read_bytes() for p in stored)  # the target's content was never copied
    assert secret.read_text() and not (folder / "link.json").is_symlink()  # the link goes, its target stays
    # named on the command line, a symlink is the user's own choice
    link = company.root / "mine.json"
    link.symlink_to(secret)
    code, out, _ = company.tc("ingest", "openai_usage", str(link))
    assert code == 0 and out.startswith("landed       openai_usage  mine.json")


# --- item 11: torn manifest line, time zone, rows outside partitions, no regular file -------------------------


def test_a_torn_manifest_line_is_reported_and_the_next_append_starts_a_new_line(company: Company) -> None:
    manifest = company.settings.raw / "manifest.jsonl"
    rows = read_manifest(company.settings).height
    with manifest.open("ab") as fh:
        fh.write(b'{"seq": 999, "sha256": "ab')  # a write cut short by a crash
    torn_at = manifest.read_bytes().count(b"\n") + 1

    code, out, _ = company.tc("status")
    assert code == 0
    assert f"Warning: {manifest}:{torn_at}: torn line ignored (an interrupted write)" in out

    page = company.root / "late.json"
    page.write_text(json.dumps(_openai_usage_page(DAY, input_tokens=12)))
    code, out, err = company.tc("ingest", "openai_usage", str(page))
    assert code == 0 and out.startswith("landed")
    assert f"warning: {manifest}:{torn_at}: torn line ignored (an interrupted write)" in err
    lines = manifest.read_bytes().split(b"\n")
    assert lines[torn_at - 1] == b'{"seq": 999, "sha256": "ab' and json.loads(lines[torn_at])["name"] == "late.json"
    assert read_manifest(company.settings).height == rows + 1
    code, _, err = company.tc(*WINDOW)
    assert code == 0, err


def test_changing_the_time_zone_is_refused_unless_the_lake_is_rebuilt(company: Company) -> None:
    def usage_dates() -> list[tuple[Any, ...]]:
        with duckdb.connect() as con:
            lake = str(company.settings.lake / "usage" / "*" / "*.parquet")
            return con.execute(
                f"select distinct period_start, usage_date from read_parquet('{lake}') "
                "where source = 'claude_code_logs' order by all"
            ).fetchall()

    before = usage_dates()
    assert json.loads((company.settings.lake / "_zone.json").read_text()) == {"timezone": "UTC"}
    company.config('[pipeline]\ntimezone = "Pacific/Auckland"\n')

    code, _, err = company.tc("run", "--date", "2025-03-05")
    assert code == 1
    assert err == (
        "tokencomp: pipeline.timezone is Pacific/Auckland but the lake was built in UTC; the zone is fixed after "
        "the first build: set it back, or rebuild the whole lake with `tokencomp run --rebuild`\n"
    )
    assert usage_dates() == before
    # a run that does not come through the CLI (the daemon, `dg dev`) is refused by the lake asset itself
    outcome = run_nightly(date(2025, 3, 5), date(2025, 3, 5), data_dir=company.settings.data_dir)
    assert not outcome.success and outcome.error.startswith("pipeline.timezone is Pacific/Auckland but the lake")
    assert usage_dates() == before

    code, _, err = company.tc("run", "--date", "2025-03-05", "--rebuild")
    assert code == 0, err
    assert "(2025-03-01 … 2025-03-10)" in err  # the whole lake, not just the day asked for
    after = usage_dates()
    assert len(after) == len(before) and after != before
    shifted = [(ts, (ts.astimezone(__import__("zoneinfo").ZoneInfo("Pacific/Auckland"))).date()) for ts, _ in before]
    assert after == shifted
    assert json.loads((company.settings.lake / "_zone.json").read_text()) == {"timezone": "Pacific/Auckland"}
    assert company.tc("run", "--date", "2025-03-05")[0] == 0


def test_rows_outside_the_partitions_are_counted_and_warned_about(company: Company) -> None:
    company.land("openai_usage", "old.json", _openai_usage_page(1_600_000_000))  # 2020-09-13
    company.land("openai_usage", "future.json", _openai_usage_page(4_000_000_000))  # 2096
    code, _, err = company.tc(*WINDOW)
    assert code == 0
    # (the other warnings: sources not pulled for want of a key)
    assert sorted(_lines(err, "warning: 1 row(s)")) == [
        "warning: 1 row(s) of openai_usage  openai_usage/future.json are dated before 2024-01-01 or in the future: "
        "kept in raw, in no partition",
        "warning: 1 row(s) of openai_usage  openai_usage/old.json are dated before 2024-01-01 or in the future: "
        "kept in raw, in no partition",
    ]
    code, out, _ = company.tc("status")
    assert "Rows outside the partitions: 2 (dated before 2024-01-01 or in the future" in out
    with dg.DagsterInstance.get() as instance:
        event = instance.get_latest_materialization_event(dg.AssetKey(["raw", "openai_usage"]))
        assert event is not None and event.asset_materialization is not None
        assert event.asset_materialization.metadata["rows_outside_partitions"].value == 2


@pytest.mark.parametrize("kind", ["dev_zero", "fifo"])
def test_ingest_accepts_regular_files_and_folders_only(kind: str, tmp_path: Path) -> None:
    if kind == "fifo":
        path = tmp_path / "pipe.json"
        os.mkfifo(path)
    else:
        path = Path("/dev/zero")
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / ".dagster")}
    env.pop("TOKENCOMP_CONFIG", None)
    args = [sys.executable, "-m", "pipelines.cli", "--data-dir", str(tmp_path / "data"), "ingest", "openai_usage"]
    done = subprocess.run([*args, str(path)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr == f"tokencomp: {path}: not a regular file or folder\n"


def test_a_fifo_in_landing_is_refused_without_being_opened(company: Company) -> None:
    folder = company.settings.landing / "openai_usage"
    folder.mkdir(parents=True, exist_ok=True)
    os.mkfifo(folder / "pipe.json")
    code, _, err = company.tc(*WINDOW)
    assert code == 0
    assert _lines(err, "quarantined") == [
        "quarantined  openai_usage  openai_usage/pipe.json: not a regular file (not read)"
    ]
