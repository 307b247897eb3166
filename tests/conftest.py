"""Shared fixtures: an isolated data dir and Dagster instance per test, and the copied samples."""

from __future__ import annotations

import fcntl
import io
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from genai_prices import Usage, calc_price

from pipelines.config import Settings, load_settings

SAMPLES = Path(__file__).parent / "fixtures" / "samples"


@pytest.fixture(autouse=True)
def no_provider_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reaches a provider API by accident: every puller's key variable is unset unless the test sets it
    (`tokencomp run` pulls every source whose key is set)."""
    from pipelines.clients import key_env, pullable

    for source in pullable():
        monkeypatch.delenv(key_env(source), raising=False)


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


def built_once(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]) -> Path:
    """A folder `build(root)` fills once per test session, shared by every pytest-xdist worker: the first to ask
    builds it under a file lock in the session's shared temp root, the others wait for it and reuse it.

    For expensive set-ups several tests or modules start from (a demo company, a normalized lake). Treat it as
    read-only: a test that changes it works on its own copy (`shutil.copytree`)."""
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the controller's basetemp; each worker's own is <it>/popen-gwN
    root = shared / "built-once" / name
    root.parent.mkdir(parents=True, exist_ok=True)
    with (root.parent / f"{name}.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            done = root / ".built"
            if not done.exists():
                shutil.rmtree(root, ignore_errors=True)  # a build that failed part-way is built again
                root.mkdir()
                build(root)
                done.touch()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return root


def demo_data(tmp_path_factory: pytest.TempPathFactory, argv: list[str]) -> Path:
    """The data dir `tokencomp ARGV` (a `demo …` command line) leaves, run once per test session for every module
    that starts from the same company (read-only: copy it to change it)."""
    from pipelines import cli

    def build(root: Path) -> None:
        with pytest.MonkeyPatch.context() as mp:
            mp.chdir(root)
            mp.setenv("DAGSTER_HOME", str(root / ".dagster"))
            mp.delenv("TOKENCOMP_CONFIG", raising=False)
            cli.out.file = io.StringIO()
            try:
                assert cli.main(["--data-dir", str(root / "data"), *argv]) == 0
            finally:
                cli.out.file = None  # type: ignore[assignment]  # back to following sys.stdout

    return built_once(tmp_path_factory, "-".join(argv), build) / "data"


def land_sample(settings: Settings, source: str, name: str, *, as_name: str | None = None) -> Path:
    """Copy a reference sample into landing/<source>/ as a delivery would arrive."""
    target = settings.landing / source / (as_name or name)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SAMPLES / name, target)
    return target


def genai_price(
    provider: str,
    model: str,
    when: datetime,
    tokens: tuple[int, int, int, int, int],
    context: dict[str, str] | None = None,
) -> Decimal:
    """What genai-prices itself charges for one request of (uncached, cache read, 5m write, 1h write, output)
    tokens, at 12 decimals: the reference our vectorized pricing must equal."""
    u, cr, w5, w1, out = tokens
    usage = Usage(
        input_tokens=u + cr + w5 + w1,
        cache_read_tokens=cr,
        cache_write_tokens=w5 + w1,
        cache_write_5m_tokens=w5,
        cache_write_1h_tokens=w1,
        output_tokens=out,
    )
    price = calc_price(usage, model, provider_id=provider, genai_request_timestamp=when, price_context=context)
    return price.total_price.quantize(Decimal("1E-12"))


def duckdb_cli(database: Path, sql: str) -> list[str]:
    """Run `sql` in the DuckDB 1.5 CLI from PyPI against `database`, opened read-only; CSV lines out."""
    args = [sys.executable, "-m", "duckdb_cli", "-readonly", "-csv", str(database), "-c", sql]
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout.splitlines()


def undocumented_objects(database: Path) -> list[str]:
    """Everything in a published warehouse file that an analyst would find undocumented: any object outside
    the `core` and `mart` schemas (so nothing in `main`), and any table, view or column without a COMMENT."""
    with duckdb.connect(str(database), read_only=True) as con:
        db = con.execute("select current_database()").fetchall()[0][0]
        sql = (Path(__file__).parent / "fixtures" / "sql" / "undocumented_objects.sql").read_text()
        return [name for (name,) in con.execute(sql, {"db": db}).fetchall()]
