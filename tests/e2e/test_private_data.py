"""Personal and pay data stays owner-only: after a demo and a quarantine, nothing under the data dir is readable by
group or others (files 0600, folders 0700), even when the shell's umask is the usual 022."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _tokencomp(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "TOKENCOMP_CONFIG"}
    env.update(DAGSTER_HOME=str(cwd / ".dagster"), PYTHONPATH=str(REPO))
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "--data-dir", "data", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        preexec_fn=lambda: os.umask(0o022),  # a login shell's usual umask, whatever the test process uses
    )


def _exposed(root: Path) -> list[str]:
    return [
        f"{stat.filemode(p.lstat().st_mode)} {p.relative_to(root.parent)}"
        for p in [root, *sorted(root.rglob("*"))]
        if p.lstat().st_mode & 0o077
    ]


def test_after_a_demo_and_a_quarantine_no_data_file_or_folder_is_group_or_world_readable(tmp_path: Path) -> None:
    demo = _tokencomp(tmp_path, "demo", "--engineers", "20", "--days", "5", "--end", "2025-03-10")
    assert demo.returncode == 0, demo.stderr
    broken = tmp_path / "broken.json"
    broken.write_text('{"data": "not a list"}')
    broken.chmod(0o644)
    ingest = _tokencomp(tmp_path, "ingest", "openai_costs", str(broken))
    assert ingest.returncode == 1 and "quarantined" in ingest.stdout

    data = tmp_path / "data"
    kinds = {p.relative_to(data).parts[0] for p in data.rglob("*") if p.is_file()}
    assert {"reference", "lake", "raw", "demo", "quarantine", "warehouse.duckdb"} <= kinds
    assert _exposed(data) == []
    assert len(_exposed(tmp_path / ".dagster")) == 0  # run logs name files and engineers too


@pytest.mark.slow
def test_a_data_dir_made_world_readable_by_an_older_version_is_tightened(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    sample = REPO / "tests" / "fixtures" / "samples" / "openai_costs_grouped_example.json"
    ingest = _tokencomp(tmp_path, "ingest", "openai_costs", str(sample))
    assert ingest.returncode == 0, ingest.stderr
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert _exposed(data) == []
