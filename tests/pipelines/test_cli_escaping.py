"""Values from data reach the terminal as text: never as Rich markup, hyperlinks or terminal control sequences."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pipelines.cli import main
from pipelines.config import Settings
from pipelines.terminal import plain, shown
from tests.conftest import SAMPLES

BOLD = "[/bold]"
LINK = "[link=https://evil.example]click[/link]"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / ".dagster"))
    return tmp_path / ".dagster"


def test_model_names_that_look_like_markup_print_as_text_in_status(
    settings: Settings, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = json.loads((SAMPLES / "anthropic_usage_report_messages_example.json").read_text())
    first = page["data"][0]["results"][0]
    page["data"][0]["results"] = [{**first, "model": BOLD}, {**first, "model": LINK, "api_key_id": "apikey_2"}]
    landing = settings.landing / "anthropic_usage"
    landing.mkdir(parents=True)
    (landing / "page.json").write_text(json.dumps(page))
    assert main(["--data-dir", str(settings.data_dir), "run", "--date", "2025-08-01"]) == 0
    capsys.readouterr()

    assert main(["--data-dir", str(settings.data_dir), "status"]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("Unpriced models"))
    assert line == f"Unpriced models (flagged, not priced at $0): anthropic/{BOLD}, anthropic/{LINK}"
    assert "\x1b" not in out  # no hyperlink escape (OSC 8) or style was emitted


def test_file_names_and_errors_with_escape_sequences_are_printed_escaped(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    evil = tmp_path / "costs\x1b[2J\x1b]8;;evil.example\x07.json"
    shutil.copyfile(SAMPLES / "openai_costs_grouped_example.json", evil)
    assert main(["--data-dir", str(settings.data_dir), "ingest", "openai_costs", str(evil)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == [
        "landed       openai_costs  costs\\x1b[2J\\x1b]8;;evil.example\\x07.json  parsed 5, loaded 5, rejected 0"
    ]

    missing = tmp_path / "gone\x1b[31m"
    assert main(["--data-dir", str(settings.data_dir), "ingest", "openai_costs", str(missing)]) == 1
    err = capsys.readouterr().err
    assert err == f"tokencomp: {tmp_path}/gone\\x1b[31m: no such file or directory\n"


def test_shown_escapes_markup_and_every_control_character() -> None:
    assert plain("a\x1bb\nc\td\x7fe\x9bf\u202eg") == "a\\x1bb\\nc\\td\\x7fe\\x9bf\\u202eg"
    assert shown(f"{BOLD} {LINK}") == "\\[/bold] \\[link=https://evil.example]click\\[/link]"
    assert plain("Zoë Ångström (E12) · €") == "Zoë Ångström (E12) · €"
