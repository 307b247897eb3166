"""HR roster snapshots: stored per date, and turned into effective-dated periods of core.dim_engineer."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.cli import main
from pipelines.config import Settings
from pipelines.services.reference import ReferenceError, load_reference, reference_frame
from pipelines.services.warehouse import build_inputs
from warehouse.build import build

HEADER = "engineer_id,email,name,team,cost_centre,level,title,location,valid_from,valid_to,snapshot_date\n"
EFFECTIVE_HEADER = "engineer_id,email,name,team,cost_centre,level,title,location,valid_from,valid_to\n"
SF = '"San Francisco, CA"'


def _row(engineer: str, level: str, hired: str, day: str, *, email: str | None = None) -> str:
    """One snapshot line: the engineer at `level` in San Francisco as of `day` (hire date `hired`, may be empty)."""
    mail = email or f"{engineer.lower()}@acme.example"
    return f"{engineer},{mail},{engineer} Name,platform,CC-101,{level},Software Engineer,{SF},{hired},,{day}\n"


def _csv(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _dim_engineer(settings: Settings, tmp_path: Path) -> list[tuple[object, ...]]:
    """Build the warehouse from the stored references (no usage) and read core.dim_engineer back read-only."""
    path = tmp_path / "build" / "warehouse.duckdb"
    build(build_inputs(settings, lake=[]), path)
    with duckdb.connect(str(path), read_only=True) as con:
        return con.sql(
            "select engineer_id, email, level, valid_from, valid_to, is_current from core.dim_engineer"
        ).fetchall()


JAN = (
    _row("E1", "L5", "2024-01-01", "2026-01-01", email="E1.Unchanged@ACME.example")  # unchanged
    + _row("E2", "L4", "", "2026-01-01")  # leaver: gone in March
    + _row("E4", "L4", "2025-06-01", "2026-01-01")  # promoted in February
    + _row("E5", "L4", "2023-03-01", "2026-01-01")  # rehired in March, HR keeps the original hire date
    + _row("E6", "L4", "2022-01-01", "2026-01-01")  # rehired in March, HR gives the new hire date
)
FEB = (
    _row("E1", "L5", "2024-01-01", "2026-02-01", email="E1.Unchanged@ACME.example")
    + _row("E2", "L4", "", "2026-02-01")
    + _row("E3", "L3", "2026-01-20", "2026-02-01")  # joiner
    + _row("E4", "L5", "2025-06-01", "2026-02-01")
)
MAR = (
    _row("E1", "L5", "2024-01-01", "2026-03-01", email="E1.Unchanged@ACME.example")
    + _row("E3", "L3", "2026-01-20", "2026-03-01")
    + _row("E4", "L5", "2025-06-01", "2026-03-01")
    + _row("E5", "L4", "2023-03-01", "2026-03-01")
    + _row("E6", "L4", "2026-02-20", "2026-03-01")
)


def test_three_snapshots_become_effective_dated_periods(settings: Settings, tmp_path: Path) -> None:
    for name, text in (("jan.csv", JAN), ("feb.csv", FEB), ("mar.csv", MAR)):
        load_reference(settings, "roster", [_csv(tmp_path, name, HEADER + text)])
    stored = sorted(p.name for p in (settings.reference / "roster_snapshots").iterdir())
    assert stored == ["2026-01-01.parquet", "2026-02-01.parquet", "2026-03-01.parquet"]
    assert not (settings.reference / "roster.parquet").exists()

    d = date
    assert _dim_engineer(settings, tmp_path) == [
        ("E1", "e1.unchanged@acme.example", "L5", d(2024, 1, 1), None, True),
        ("E2", "e2@acme.example", "L4", d(2026, 1, 1), d(2026, 3, 1), False),
        ("E3", "e3@acme.example", "L3", d(2026, 1, 20), None, True),
        ("E4", "e4@acme.example", "L4", d(2025, 6, 1), d(2026, 2, 1), False),
        ("E4", "e4@acme.example", "L5", d(2026, 2, 1), None, True),
        ("E5", "e5@acme.example", "L4", d(2023, 3, 1), d(2026, 2, 1), False),
        ("E5", "e5@acme.example", "L4", d(2026, 3, 1), None, True),
        ("E6", "e6@acme.example", "L4", d(2022, 1, 1), d(2026, 2, 1), False),
        ("E6", "e6@acme.example", "L4", d(2026, 2, 20), None, True),
    ]


def test_a_snapshot_file_with_two_dates_is_rejected_naming_file_line_and_field(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = HEADER + _row("E1", "L5", "", "2026-01-01") + _row("E2", "L4", "", "2026-02-01")
    mixed = _csv(tmp_path, "mixed.csv", text)
    code = main(["--data-dir", str(settings.data_dir), "reference", "load", "roster", str(mixed)])
    assert code == 1
    assert capsys.readouterr().err.strip() == (
        f"tokencomp: {mixed}:3: field 'snapshot_date': 2026-02-01 differs from 2026-01-01 on line 2 "
        "(one snapshot date per file)"
    )
    assert not (settings.reference / "roster_snapshots").exists()


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (_row("E1", "L5", "", "2026-01-01") + _row("E1", "L6", "", "2026-01-01"), ":3: field 'engineer_id': 'E1'"),
        (_row("E1", "L5", "2026-01-02", "2026-01-01"), ":2: field 'valid_from': hire date 2026-01-02 is after"),
        (_row("E1", "L5", "", ""), ":2: field 'snapshot_date': missing"),
    ],
)
def test_a_snapshot_listing_someone_twice_or_hired_later_is_rejected(
    settings: Settings, tmp_path: Path, text: str, error: str
) -> None:
    path = _csv(tmp_path, "bad.csv", HEADER + text)
    with pytest.raises(ReferenceError, match=f"^{path}{error}"):
        load_reference(settings, "roster", [path])


def test_reloading_a_snapshot_date_replaces_that_date_only(settings: Settings, tmp_path: Path) -> None:
    load_reference(settings, "roster", [_csv(tmp_path, "jan.csv", HEADER + JAN)])
    load_reference(settings, "roster", [_csv(tmp_path, "feb.csv", HEADER + FEB)])
    corrected = _row("E1", "L6", "2024-01-01", "2026-01-01")
    assert load_reference(settings, "roster", [_csv(tmp_path, "jan-fixed.csv", HEADER + corrected)]) == 1

    stored = reference_frame(settings, "roster_snapshots")
    assert stored.group_by("snapshot_date").len().sort("snapshot_date").rows() == [
        (date(2026, 1, 1), 1),
        (date(2026, 2, 1), 4),
    ]
    assert sorted(p.name for p in (settings.reference / "roster_snapshots").iterdir()) == [
        "2026-01-01.parquet",
        "2026-02-01.parquet",
    ]
    assert stored.filter(pl.col("snapshot_date") == date(2026, 1, 1))["level"].to_list() == ["L6"]


def test_an_engineer_in_an_effective_dated_file_takes_those_rows_over_snapshots(
    settings: Settings, tmp_path: Path
) -> None:
    load_reference(settings, "roster", [_csv(tmp_path, "jan.csv", HEADER + JAN)])
    load_reference(settings, "roster", [_csv(tmp_path, "feb.csv", HEADER + FEB)])
    effective = (
        EFFECTIVE_HEADER
        + f"E4,E4@Acme.example,E4 Name,platform,CC-101,L4,Software Engineer,{SF},2025-06-01,2026-01-15\n"
        + f"E4,E4@Acme.example,E4 Name,platform,CC-101,L5,Software Engineer,{SF},2026-01-15,\n"
    )
    load_reference(settings, "roster", [_csv(tmp_path, "roster.csv", effective)])
    assert len(reference_frame(settings, "roster_snapshots")) == 9  # an effective-dated load keeps the snapshots

    d = date
    assert _dim_engineer(settings, tmp_path) == [
        ("E1", "e1.unchanged@acme.example", "L5", d(2024, 1, 1), None, True),
        ("E2", "e2@acme.example", "L4", d(2026, 1, 1), None, True),
        ("E3", "e3@acme.example", "L3", d(2026, 1, 20), None, True),
        ("E4", "e4@acme.example", "L4", d(2025, 6, 1), d(2026, 1, 15), False),
        ("E4", "e4@acme.example", "L5", d(2026, 1, 15), None, True),
        ("E5", "e5@acme.example", "L4", d(2023, 3, 1), d(2026, 2, 1), False),
        ("E6", "e6@acme.example", "L4", d(2022, 1, 1), d(2026, 2, 1), False),
    ]
