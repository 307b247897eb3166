"""`[duckdb]` limits come from config, default from the machine, and every pipeline connection applies them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.config import ConfigError, load_settings
from transforms.common import DEFAULT_MEMORY_SHARE, EngineLimits, configure_engine, connect, machine_memory


@pytest.fixture(autouse=True)
def _machine_limits_after(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test loads its own settings in its own folder; later tests get the machine's limits back."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TOKENCOMP_CONFIG", raising=False)
    yield
    configure_engine(EngineLimits.for_machine())


def _setting(name: str) -> str:
    (value,) = connect().execute("select current_setting($n)::varchar", {"n": name}).fetchone() or ("",)
    return str(value)


def test_limits_from_config_reach_every_connection(tmp_path: Path) -> None:
    config = tmp_path / "tokencomp.toml"
    config.write_text('[duckdb]\nmemory_limit = "1GiB"\nthreads = 1\ntemp_directory = "spill"\n')
    settings = load_settings(config, data_dir=tmp_path / "data")
    assert (settings.engine.memory_limit, settings.engine.threads) == (2**30, 1)
    assert settings.engine.temp_directory == tmp_path / "spill"
    assert _setting("threads") == "1"
    assert _setting("memory_limit") in ("1.0 GiB", "1024.0 MiB")
    assert _setting("temp_directory") == str(tmp_path / "spill")


def test_defaults_follow_the_machine(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data")
    assert settings.engine.memory_limit == int(machine_memory() * DEFAULT_MEMORY_SHARE)
    assert settings.engine.threads == (os.cpu_count() or 1)
    # spills go to a per-process folder in scratch, swept once the process is gone
    assert settings.engine.temp_directory == tmp_path / "data" / "_tmp" / f"duckdb-{os.getpid()}-spill"
    assert _setting("threads") == str(os.cpu_count() or 1)


@pytest.mark.parametrize("section", ['memory_limit = "lots"', 'memory_limit = "0GiB"', "threads = -1"])
def test_bad_limits_are_a_config_error(tmp_path: Path, section: str) -> None:
    config = tmp_path / "tokencomp.toml"
    config.write_text(f"[duckdb]\n{section}\n")
    with pytest.raises(ConfigError, match=r"duckdb\.(memory_limit|threads)"):
        load_settings(config, data_dir=tmp_path / "data")
