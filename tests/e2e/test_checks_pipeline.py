"""Asset checks through the real nightly run (Dagster in process, real files): a failing blocking check stops
everything downstream and exits 3; failing WARN checks stop nothing, exit 0, and are printed and kept in status."""

from __future__ import annotations

import json
import re
from pathlib import Path

import dagster as dg
import pytest

from pipelines.cli import main
from pipelines.config import Settings
from pipelines.defs.checks import RECONCILIATION, UNATTRIBUTED
from pipelines.runner import dagster_instance

DAY1, DAY2 = "2025-08-01", "2025-08-02"


def _page(day: str, results: list[dict[str, object]]) -> str:
    """An Anthropic usage report page (the API's JSON, one bucket for `day`), pretty-printed as the API sends it."""
    end = f"2025-08-{int(day[-2:]) + 1:02d}T00:00:00Z"
    bucket = {"starting_at": f"{day}T00:00:00Z", "ending_at": end, "results": results}
    return json.dumps({"data": [bucket], "has_more": False, "next_page": None}, indent=2)


def _usage(key: str, output_tokens: int, model: str = "claude-sonnet-4-5") -> dict[str, object]:
    return {
        "api_key_id": key,
        "workspace_id": "wrkspc_1",
        "model": model,
        "uncached_input_tokens": 1000,
        "cache_read_input_tokens": 0,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
        "output_tokens": output_tokens,
        "service_tier": "standard",
        "context_window": "0-200k",
    }


def _drop(settings: Settings, name: str, text: str) -> None:
    path = settings.landing / "anthropic_usage" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def dagster_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / ".dagster"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


def _materialized(run_id: str) -> set[str]:
    instance = dagster_instance()
    return {
        e.dagster_event.asset_key.to_user_string()
        for e in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
        if e.dagster_event is not None and e.dagster_event.asset_key is not None
    }


def _last_run_id() -> str:
    return dagster_instance().get_runs(filters=dg.RunsFilter(job_name="nightly"), limit=1)[0].run_id


def test_a_negative_token_count_in_a_page_stops_everything_downstream_with_exit_3(
    settings: Settings, dagster_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = ["--data-dir", str(settings.data_dir)]
    _drop(settings, "day1.json", _page(DAY1, [_usage("k1", 500), _usage("k2", 700)]))
    assert main([*data, "run", "--date", DAY1]) == 0
    published = settings.warehouse_path.read_bytes()
    capsys.readouterr()

    # day 2's page: one record of four has a negative count, which the parser alone would reject at its line
    results = [_usage("k1", 500), _usage("k2", -5), _usage("k3", 10), _usage("k4", 20)]
    _drop(settings, "day2.json", _page(DAY2, results))
    assert main([*data, "run", "--date", DAY2]) == 3
    last = capsys.readouterr().err.strip().splitlines()[-1]
    lines = _page(DAY2, results).splitlines()
    line = 1 + next(i for i, text in enumerate(lines) if '"output_tokens": -5' in text)
    assert re.fullmatch(
        r"tokencomp: run [0-9a-f]{8} failed: blocking check negative_tokens \(raw/anthropic_usage\): "
        + re.escape(
            f"anthropic_usage: 1 negative token count(s) in the pages for {DAY2} … {DAY2}; first: "
            f"anthropic_usage/day2.json line {line}: output_tokens = -5 (raw sha256 "
        )
        + r"[0-9a-f]{12}"
        + re.escape(
            "); the parser rejects those records, so the days would publish without them: re-pull a corrected "
            "page and rerun"
        ),
        last,
    )
    # nothing downstream ran: the lake has no day 2, and the published warehouse is byte for byte day 1's
    done = _materialized(_last_run_id())
    assert "raw/anthropic_usage" in done and {key.split("/")[0] for key in done} == {"raw", "reference"}
    assert not (settings.lake / "usage" / f"billing_date={DAY2}").exists()
    assert settings.warehouse_path.read_bytes() == published

    assert main([*data, "status"]) == 0
    status = " ".join(capsys.readouterr().out.split())
    assert "blocking check negative_tokens (raw/anthropic_usage): anthropic_usage: 1 negative token count(s)" in status
    assert "Failed: blocking check negative_tokens (raw/anthropic_usage)" in status

    # the provider corrects the page: the re-delivery for the same days replaces it and the day publishes
    _drop(settings, "day2-corrected.json", _page(DAY2, [*results[:1], _usage("k2", 5), *results[2:]]))
    assert main([*data, "run", "--date", DAY2]) == 0
    assert (settings.lake / "usage" / f"billing_date={DAY2}").exists()
    assert settings.warehouse_path.read_bytes() != published


def test_failing_warn_checks_stop_nothing_exit_0_and_are_printed_and_kept_in_status(
    settings: Settings, dagster_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = ["--data-dir", str(settings.data_dir)]
    # a model no price list knows, on a key no alias names (all spend unattributed), and an invoice far off
    _drop(settings, "day1.json", _page(DAY1, [_usage("k1", 500), _usage("k2", 10, model="claude-nonexistent-9")]))
    invoices = settings.landing / "invoices" / "invoices.csv"
    invoices.parent.mkdir(parents=True)
    invoices.write_text("provider,invoice_id,period,currency,total\nanthropic,INV-1,2025-08,USD,100.00\n")

    assert main([*data, "run", "--date", DAY1]) == 0
    err = capsys.readouterr().err
    assert settings.warehouse_path.exists()  # published
    assert {"lake/usage", UNATTRIBUTED.to_user_string()} <= _materialized(_last_run_id())
    warnings = [line for line in err.splitlines() if line.startswith("warning: check ")]
    assert (
        "warning: check unpriced_models (lake/usage): 1 model(s) with no price in 2025-08-01 … 2025-08-01: "
        "anthropic/claude-nonexistent-9 (1 rows); add them to the price overrides file and rerun those days"
    ) in warnings
    share = [
        w for w in warnings if w.startswith(f"warning: check unattributed_share ({UNATTRIBUTED.to_user_string()}): ")
    ]
    assert len(share) == 1 and "1 month(s) with unattributed spend over 20%; 2025-08: " in share[0]
    assert "(100.0%) reaches no engineer" in share[0]
    gap = [w for w in warnings if w.startswith(f"warning: check invoice_gap ({RECONCILIATION.to_user_string()}): ")]
    assert len(gap) == 1 and "1 invoice(s) off billed spend by more than $1.00; first: 2025-08 anthropic:" in gap[0]
    assert "invoice $100.00" in gap[0]
    stale = [w for w in warnings if w.startswith("warning: check freshness (raw/anthropic_usage): ")]
    assert len(stale) == 1 and "anthropic_usage is stale: its data ends 2025-08-01, " in stale[0]
    never = [w for w in warnings if w.startswith("warning: check freshness (raw/openai_usage): ")]
    assert never == ["warning: check freshness (raw/openai_usage): openai_usage has delivered no data yet"]
    assert err.strip().splitlines()[-1].startswith("run ") and "succeeded" in err.strip().splitlines()[-1]

    assert main([*data, "status"]) == 0
    status = capsys.readouterr().out
    assert re.search(r"Checks of run [0-9a-f]{8} \(SUCCESS\): \d+ evaluated, 0 blocking failed, 9 warned", status)
    assert "Warning: check unpriced_models (lake/usage): 1 model(s) with no price" in " ".join(status.split())


def test_a_reprice_prints_the_warn_checks_of_its_runs_like_run_does_and_exits_0(
    settings: Settings, dagster_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = ["--data-dir", str(settings.data_dir)]
    # an unpriced model (a WARN on the lake run) and all spend unattributed (a WARN on the republish)
    _drop(settings, "day1.json", _page(DAY1, [_usage("k1", 500), _usage("k2", 10, model="claude-nonexistent-9")]))
    assert main([*data, "run", "--date", DAY1]) == 0
    assert main([*data, "close", "--month", "2025-08"]) == 0
    capsys.readouterr()

    assert main([*data, "reprice", "--month", "2025-08"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "re-priced 2025-08: nothing changed\n"
    warnings = [line for line in captured.err.splitlines() if line.startswith("warning: check ")]
    unpriced = [w for w in warnings if w.startswith("warning: check unpriced_models (lake/usage): ")]
    assert unpriced == [
        "warning: check unpriced_models (lake/usage): 1 model(s) with no price in 2025-08-01 … 2025-08-31: "
        "anthropic/claude-nonexistent-9 (1 rows); add them to the price overrides file and rerun those days"
    ]
    share = [
        w for w in warnings if w.startswith(f"warning: check unattributed_share ({UNATTRIBUTED.to_user_string()}): ")
    ]
    assert len(share) == 1 and "1 month(s) with unattributed spend over 20%; 2025-08: " in share[0]
    assert len(warnings) == len(set(warnings))  # a check failing in two of the three runs is printed once
