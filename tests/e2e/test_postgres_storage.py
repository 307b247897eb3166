"""Production storage: `tokencomp run` records the nightly job in a real PostgreSQL server (Debian's `postgresql`),
through the storage block dagster.yaml documents (dagster-postgres, credentials from the environment).

The server is started by the fixture in a temporary folder (initdb + pg_ctl, a free port on 127.0.0.1, its unix
socket in the same folder) and stopped after. Where it cannot be started the test fails in one line saying why.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import dagster as dg
import pytest
import yaml

from pipelines.definitions import build_definitions
from pipelines.defs.resources import TokencompResource
from tests.conftest import SAMPLES

REPO = Path(__file__).resolve().parents[2]
DAY = "2025-08-01"  # the day the Anthropic samples cover
PASSWORD = "tokencomp-test-only"
TIMEOUT = 600  # seconds; only reached when something hangs


@dataclass(frozen=True)
class Postgres:
    """A running local server: where to reach it, and the environment the documented dagster.yaml reads."""

    host: str
    port: int
    db: str
    user: str

    def env(self) -> dict[str, str]:
        return {
            "DAGSTER_PG_HOST": self.host,
            "DAGSTER_PG_PORT": str(self.port),
            "DAGSTER_PG_DB": self.db,
            "DAGSTER_PG_USERNAME": self.user,
            "DAGSTER_PG_PASSWORD": PASSWORD,
        }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_server_user() -> list[str]:
    """PostgreSQL refuses to run as root: as root, run its programs as `postgres` (the package's user) or nobody."""
    if os.geteuid() != 0:
        return []
    for user in ("postgres", "nobody"):
        try:
            pwd.getpwnam(user)
        except KeyError:
            continue
        return [shutil.which("runuser") or "/usr/sbin/runuser", "-u", user, "--"]
    pytest.fail("running as root and neither the postgres nor the nobody user exists to run PostgreSQL as")


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    """A fresh PostgreSQL cluster for this module: password login over TCP on 127.0.0.1, stopped afterwards."""
    try:
        import dagster_postgres  # noqa: F401
        import psycopg2  # noqa: F401
    except ImportError as exc:
        pytest.fail(f"dagster-postgres is not installed ({exc}): `make .venv/.installed` installs pyproject's deps")
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not found:
        pytest.fail("PostgreSQL is not installed: `apt-get install postgresql` (Debian); .ci/run installs it")
    bin_dir = Path(found[-1]).parent
    prefix = _as_server_user()
    root = Path(tempfile.mkdtemp(prefix="tokencomp-pg-"))
    data, port, user = root / "data", _free_port(), "tokencomp"

    def pg(program: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*prefix, str(bin_dir / program), *args], capture_output=True, text=True, timeout=300)

    try:
        (root / "pw").write_text(PASSWORD)
        if prefix:
            for path in (root, root / "pw"):
                shutil.chown(path, user=prefix[2])
        # trust on the unix socket (for createdb), a password over TCP: the one dagster.yaml reads from the env
        auth = ("--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={root / 'pw'}")
        init = pg("initdb", "-D", str(data), "-U", user, *auth, "-E", "UTF8", "--no-sync")
        if init.returncode != 0:
            pytest.fail(f"could not create a PostgreSQL cluster with {bin_dir}/initdb: {init.stderr.strip()[-300:]}")
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = root / "server.log"
        started = pg("pg_ctl", "-D", str(data), "-l", str(log), "-w", "-t", "120", "-o", options, "start")
        if started.returncode != 0:
            reason = log.read_text() if log.exists() else started.stderr
            pytest.fail(f"could not start PostgreSQL with {bin_dir}/pg_ctl: {reason.strip()[-300:]}")
        made = pg("createdb", "-h", str(root), "-p", str(port), "-U", user, "dagster")
        assert made.returncode == 0, made.stderr
        yield Postgres("127.0.0.1", port, "dagster", user)
    finally:
        if (data / "postmaster.pid").exists():
            pg("pg_ctl", "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


def postgres_dagster_yaml() -> dict[str, object]:
    """The packaged dagster.yaml with its storage replaced by the commented Postgres block it documents."""
    text = files("pipelines").joinpath("dagster.yaml").read_text()
    block = text.split("# postgres-storage:\n", 1)[1].split("# end postgres-storage\n", 1)[0]
    storage = yaml.safe_load("".join(line.removeprefix("# ") + "\n" for line in block.splitlines()))
    config = yaml.safe_load(text)
    return {**config, "storage": storage["storage"]}


def test_the_documented_postgres_block_is_the_only_change_from_the_sqlite_default() -> None:
    config = postgres_dagster_yaml()
    assert config["storage"] == {
        "postgres": {
            "postgres_db": {
                "hostname": {"env": "DAGSTER_PG_HOST"},
                "port": {"env": "DAGSTER_PG_PORT"},
                "db_name": {"env": "DAGSTER_PG_DB"},
                "username": {"env": "DAGSTER_PG_USERNAME"},
                "password": {"env": "DAGSTER_PG_PASSWORD"},
                "scheme": "postgresql+psycopg2",
            }
        }
    }
    default = yaml.safe_load(files("pipelines").joinpath("dagster.yaml").read_text())
    assert {k: v for k, v in config.items() if k != "storage"} == {k: v for k, v in default.items() if k != "storage"}


@pytest.mark.slow
def test_tokencomp_run_records_the_nightly_job_and_its_materializations_in_postgres(
    postgres: Postgres, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg2

    home = tmp_path / ".dagster"
    home.mkdir()
    (home / "dagster.yaml").write_text(yaml.safe_dump(postgres_dagster_yaml(), sort_keys=False))
    for source, name in (
        ("anthropic_usage", "anthropic_usage_report_messages_example.json"),
        ("anthropic_cost", "anthropic_cost_report_example.json"),
    ):
        (tmp_path / "data" / "landing" / source).mkdir(parents=True)
        shutil.copyfile(SAMPLES / name, tmp_path / "data" / "landing" / source / name)
    env = {k: v for k, v in os.environ.items() if k != "TOKENCOMP_CONFIG"}
    env |= {**postgres.env(), "DAGSTER_HOME": str(home), "PYTHONPATH": str(REPO), "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "--data-dir", "data", "run", "--date", DAY],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "data" / "warehouse.duckdb").exists()
    assert sorted(home.rglob("*.db")) == []  # no SQLite storage (only the steps' compute logs stay on disk)

    monkeypatch.chdir(tmp_path)
    defs = build_definitions(TokencompResource(data_dir=str(tmp_path / "data")))
    built = {k.to_user_string() for k in defs.resolve_job_def("nightly").asset_layer.executable_asset_keys}
    checks = {
        (k.asset_key.to_user_string(), k.name)
        for k in defs.resolve_job_def("nightly").asset_layer.asset_graph.asset_check_keys
    }

    assert {"lake/usage", "reference/files"} <= built and checks  # the job's assets and checks, from its definition
    # by hand, in SQL: the two runs, the nightly run's materializations and check evaluations, the pool
    with (
        psycopg2.connect(
            host=postgres.host, port=postgres.port, dbname=postgres.db, user=postgres.user, password=PASSWORD
        ) as con,
        con.cursor() as cur,
    ):
        cur.execute("select run_id, pipeline_name, status from runs order by id")
        runs = cur.fetchall()
        assert [(job, status) for _, job, status in runs] == [("pull", "SUCCESS"), ("nightly", "SUCCESS")]
        nightly_run = runs[1][0]
        cur.execute(
            "select distinct asset_key from event_logs where run_id = %s and dagster_event_type = %s",
            (nightly_run, "ASSET_MATERIALIZATION"),
        )
        keys = {dg.AssetKey.from_db_string(row[0]).to_user_string() for row in cur.fetchall()}
        assert keys == built
        cur.execute(
            "select asset_key, check_name, execution_status from asset_check_executions where run_id = %s",
            (nightly_run,),
        )
        evaluated = {(dg.AssetKey.from_db_string(a).to_user_string(), name, s) for a, name, s in cur.fetchall()}
        assert {(asset, name) for asset, name, _ in evaluated} == checks
        cur.execute("select concurrency_key from concurrency_limits")
        assert "duckdb_warehouse" in {row[0] for row in cur.fetchall()}

    # through Dagster's own API on the same instance: the same run, and every asset's latest materialization from it
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    for name, value in postgres.env().items():
        monkeypatch.setenv(name, value)
    with dg.DagsterInstance.get() as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        run = instance.get_run_by_id(nightly_run)
        assert run is not None and run.job_name == "nightly" and run.status == dg.DagsterRunStatus.SUCCESS
        results = {
            (
                e.asset_check_evaluation.asset_key.to_user_string(),
                e.asset_check_evaluation.check_name,
                e.asset_check_evaluation.passed,
            )
            for e in instance.all_logs(nightly_run, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
            if e.asset_check_evaluation is not None
        }
        assert {(a, n, "SUCCEEDED" if passed else "FAILED") for a, n, passed in results} == evaluated
        for key in built:
            event = instance.get_latest_materialization_event(dg.AssetKey.from_user_string(key))
            assert event is not None and event.run_id == nightly_run, key
