"""Shared fixtures: an isolated data dir and Dagster instance per test, and the copied samples."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from pipelines.config import Settings, load_settings

SAMPLES = Path(__file__).parent / "fixtures" / "samples"


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Default settings with data in a fresh temporary folder (no tokencomp.toml is read)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TOKENCOMP_CONFIG", raising=False)
    return load_settings(data_dir=tmp_path / "data")


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    """A throwaway Dagster instance, so tests never touch ./.dagster."""
    with dg.instance_for_test() as inst:
        yield inst


def land_sample(settings: Settings, source: str, name: str, *, as_name: str | None = None) -> Path:
    """Copy a reference sample into landing/<source>/ as a delivery would arrive."""
    target = settings.landing / source / (as_name or name)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SAMPLES / name, target)
    return target
