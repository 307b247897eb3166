"""`tokencomp` commands: output, one-line errors and DESIGN's exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import main
from pipelines.config import Settings
from pipelines.services.reference import USER_KINDS
from tests.conftest import SAMPLES


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_sources_lists_one_id_a_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "sources")
    assert code == 0
    assert out.splitlines() == [
        "anthropic_claude_code",
        "anthropic_cost",
        "anthropic_usage",
        "claude_code_logs",
        "openai_costs",
        "openai_usage",
    ]


def test_bad_usage_exits_1_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["run", "--date", "2026-13-01"])
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a date" in err
    code, _, err = _run(capsys, "run", "--from", "2026-03-05", "--to", "2026-03-01")
    assert code == 1 and err.strip() == "tokencomp: --from 2026-03-05 is after --to 2026-03-01"


def test_reference_error_names_file_line_and_field(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "engineer_id,email,name,team,cost_centre,level,title,location,valid_from,valid_to\n"
        "E1,a@x.example,A,t,c,L4,SWE,Austin TX,2024-01-01,\n"
        "E2,b@x.example,B,t,c,L4,SWE,Austin TX,2024-13-01,\n"
    )
    code, _, err = _run(capsys, "--data-dir", str(settings.data_dir), "reference", "load", "roster", str(roster))
    assert code == 1
    assert err.strip() == f"tokencomp: {roster}:3: field 'valid_from': not a valid Date: '2024-13-01'"


def test_ingest_prints_a_line_per_file_and_exits_1_when_one_is_quarantined(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"data": "not a list"}')
    good = SAMPLES / "openai_costs_grouped_example.json"
    code, out, err = _run(
        capsys, "--data-dir", str(settings.data_dir), "ingest", "openai_costs", str(good), str(broken)
    )
    lines = out.splitlines()
    assert lines[0] == "landed       openai_costs  openai_costs_grouped_example.json  parsed 5, loaded 5, rejected 0"
    assert lines[1].startswith("quarantined  openai_costs  broken.json: broken.json") and "data" in lines[1]
    assert code == 1 and err.strip().startswith("tokencomp: 1 of 2 file(s) quarantined")


def test_status_on_an_empty_data_dir(
    settings: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(settings.data_dir.parent / ".dagster"))
    code, out, _ = _run(capsys, "--data-dir", str(settings.data_dir), "status")
    assert code == 0
    assert "anthropic_usage" in out and "never" in out and "Warehouse: not built yet" in out


def test_console_script_help() -> None:
    script = Path(sys.executable).parent / "tokencomp"
    out = subprocess.run([str(script), "--help"], capture_output=True, text=True, check=True).stdout
    for command in ("demo", "sources", "ingest", "pull", "run", "reference", "status"):
        assert command in out
    exit_codes = "Exit codes: 0 done, 1 bad usage or input, 2 provider or IO failure, 3 a blocking check failed, 130"
    assert f"{exit_codes} interrupted." in " ".join(out.split())


def test_an_unknown_model_is_flagged_and_listed_never_priced_at_zero(
    settings: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(settings.data_dir.parent / ".dagster"))
    page = json.loads((SAMPLES / "openai_usage_completions_grouped_example.json").read_text())
    page["data"][0]["results"][1]["model"] = "gpt-99-internal-preview"
    target = settings.landing / "openai_usage" / "page.json"
    target.parent.mkdir(parents=True)
    target.write_text(json.dumps(page))
    data = ["--data-dir", str(settings.data_dir)]
    assert main([*data, "run", "--from", "2026-03-02", "--to", "2026-03-03"]) == 0
    capsys.readouterr()
    assert main([*data, "status"]) == 0
    assert "Unpriced models (flagged, not priced at $0): openai/gpt-99-internal-preview" in capsys.readouterr().out
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        assert con.sql("select model_raw, records, output_tokens from mart.unpriced_models").fetchall() == [
            ("gpt-99-internal-preview", 1, 30121)
        ]
        assert con.sql(
            "select spend_usd, list_cost_usd from core.fct_spend where model = 'gpt-99-internal-preview'"
        ).fetchall() == [(None, None)]


def test_an_unexpected_failure_still_ends_with_one_line(
    settings: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(settings.data_dir.parent / ".dagster"))
    monkeypatch.delenv("TOKENCOMP_DEBUG", raising=False)
    settings.raw.mkdir(parents=True)
    (settings.raw / "manifest.jsonl").write_text('{"seq": {"not": "a number"}}\n')  # JSON, but no manifest row
    assert main(["--data-dir", str(settings.data_dir), "status"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tokencomp: internal error: ") and err.count("\n") == 1


@pytest.mark.parametrize("argv", [["--help"], ["reference", "--help"], ["reference", "load", "--help"]])
def test_help_lists_every_reference_kind_load_accepts(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert ", ".join(USER_KINDS) in text  # the whole registry, in its order
    assert set(USER_KINDS) >= {"roster", "aliases", "scopes", "salaries", "seat_prices"}
