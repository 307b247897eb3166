"""`tokencomp reference load salaries`: the load's counts and rejected rows are printed; a bad file exits 1."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.cli import main
from pipelines.config import Settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "salaries"


def test_load_prints_counts_rejections_and_unmapped_levels(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    messy = FIXTURES / "messy_classic.csv"
    code = main(["--data-dir", str(settings.data_dir), "reference", "load", "salaries", str(messy)])
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert out[0] == (
        "salaries: 14 rows read, 10 loaded (10 submissions, 0 vendor band rows), 4 rejected, "
        "1 with an unmapped level (1 distinct)"
    )
    assert out[1:5] == [
        f"rejected {messy}:4: field 'totalyearlycompensation': missing",
        f"rejected {messy}:6: field 'stockgrantvalue': not an amount of money: 'lots'",
        f"rejected {messy}:11: field 'title': missing",
        f"rejected {messy}:15: field 'timestamp': not a date: '13/45/2019 9:00:00'",
    ]
    assert out[5] == "unmapped level Amazon 'Principal Wizard': 1 rows (kept as written)"
    assert out[6].startswith("loaded salaries: 10 rows into ")


def test_a_file_that_is_no_salary_file_exits_1_in_one_line(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "people.csv"
    bad.write_text("name,age\nann,3\n")
    code = main(["--data-dir", str(settings.data_dir), "reference", "load", "salaries", str(bad)])
    err = capsys.readouterr().err
    assert code == 1
    assert (
        err.startswith(f"tokencomp: {bad}: not a salary file: expected the Levels.fyi columns") and err.count("\n") == 1
    )
