"""The route_members reference: who uses each shared route, validated on load with file, line and field."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from pipelines.cli import main
from pipelines.config import Settings
from pipelines.defs.ingest import reference_files
from pipelines.defs.resources import TokencompResource
from pipelines.services.reference import ReferenceError, load_reference, reference_frame

HEADER = "provider,principal_kind,principal_id,engineer_id,valid_from,valid_to\n"
GOOD = HEADER + (
    "anthropic,api_key_id,apikey_01shared,E1,2026-01-01,\n"
    "anthropic,api_key_id,apikey_01shared,E2,2026-01-01,2026-03-01\n"
    "openai,iam_principal,Gateway@Acme.example,E3,,\n"
)


def _csv(tmp_path: Path, text: str, name: str = "route_members.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_route_members_load_with_effective_dates(settings: Settings, tmp_path: Path) -> None:
    assert load_reference(settings, "route_members", [_csv(tmp_path, GOOD)]) == 3
    frame = reference_frame(settings, "route_members")
    assert frame.rows() == [
        ("anthropic", "api_key_id", "apikey_01shared", "E1", date(2026, 1, 1), None),
        ("anthropic", "api_key_id", "apikey_01shared", "E2", date(2026, 1, 1), date(2026, 3, 1)),
        ("openai", "iam_principal", "gateway@acme.example", "E3", None, None),  # case-insensitive kind
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("anthropic,api_key_id,apikey_01x,,2026-01-01,", "3: field 'engineer_id': missing"),
        ("anthropic,,apikey_01x,E1,2026-01-01,", "3: field 'principal_kind': missing"),
        ("anthropic,api_key_id,apikey_01x,E1,2026-02-30,", "3: field 'valid_from': not a valid Date: '2026-02-30'"),
        (
            "anthropic,workspace_key,apikey_01x,E1,2026-01-01,",
            "3: field 'principal_kind': not valid: 'workspace_key' (expected one of email, api_key_id,",
        ),
        (
            "anthropic,api_key_id,apikey_01x,E1,2026-02-01,2026-02-01",
            "3: field 'valid_to': not valid: '2026-02-01' (not after valid_from (valid_to is exclusive))",
        ),
    ],
)
def test_a_bad_route_member_names_file_line_and_field(
    settings: Settings, tmp_path: Path, line: str, message: str
) -> None:
    path = _csv(tmp_path, HEADER + "anthropic,api_key_id,apikey_01ok,E1,2026-01-01,\n" + line + "\n")
    with pytest.raises(ReferenceError) as exc:
        load_reference(settings, "route_members", [path])
    assert str(exc.value).startswith(f"{path}:{message}")
    assert not (settings.reference / "route_members.parquet").exists()


def test_a_missing_column_is_named(settings: Settings, tmp_path: Path) -> None:
    path = _csv(tmp_path, "provider,principal_kind,principal_id,valid_from,valid_to\n")
    with pytest.raises(ReferenceError, match=f"^{path}: missing column 'engineer_id'$"):
        load_reference(settings, "route_members", [path])


def test_cli_loads_route_members(settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _csv(tmp_path, GOOD)
    assert main(["--data-dir", str(settings.data_dir), "reference", "load", "route_members", str(path)]) == 0
    assert "3" in capsys.readouterr().out
    assert reference_frame(settings, "route_members").height == 3


def test_route_members_dropped_in_landing_are_loaded_by_the_reference_asset(settings: Settings) -> None:
    folder = settings.landing / "route_members"
    folder.mkdir(parents=True)
    (folder / "keys.csv").write_text(GOOD)
    result = dg.materialize(
        [reference_files], resources={"tokencomp": TokencompResource(data_dir=str(settings.data_dir))}
    )
    assert result.success
    assert reference_frame(settings, "route_members").height == 3
    assert not (folder / "keys.csv").exists()  # cleared from the inbox
    assert pl.read_parquet(settings.reference / "route_members.parquet")["engineer_id"].to_list() == ["E1", "E2", "E3"]
