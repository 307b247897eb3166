"""Dagster's own commands work where a Dagster user types them: the project root, DAGSTER_HOME unset (issue 13).

Without DAGSTER_HOME, `dg`/`dagster dev` make a throwaway home in the current folder and configure it from the
folder's dagster.yaml; the repository's one keeps every storage in ./.dagster, the instance `tokencomp` opens.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SCRATCH = {".venv", ".git", "__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis", ".dagster"}


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "TOKENCOMP_CONFIG")}
    return {**env, "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}"}


def _tree(root: Path) -> set[str]:
    """Every path under `root` but the scratch Python, git and the tools keep (and the instance, ./.dagster)."""
    found: set[str] = set()
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SCRATCH and not d.endswith(".egg-info")]
        base = Path(folder).relative_to(root)
        found.update(str(base / n) for n in [*dirs, *names])
    return found


def test_the_root_dagster_yaml_is_the_packaged_one_with_its_storage_in_dot_dagster() -> None:
    """Two files, one instance config: $DAGSTER_HOME gets the packaged copy; the root's differs only in where."""
    packaged = yaml.safe_load((ROOT / "pipelines" / "dagster.yaml").read_text())
    root = yaml.safe_load((ROOT / "dagster.yaml").read_text())
    assert packaged["storage"] == {"sqlite": {"base_dir": {"env": "DAGSTER_HOME"}}}
    assert root["storage"] == {"sqlite": {"base_dir": ".dagster"}}
    assert root["local_artifact_storage"]["config"] == {"base_dir": ".dagster"}
    assert root["compute_logs"]["config"] == {"base_dir": ".dagster/storage"}
    where = ("storage", "local_artifact_storage", "compute_logs")
    assert {k: v for k, v in root.items() if k not in where} == {k: v for k, v in packaged.items() if k != "storage"}
    assert packaged["telemetry"] == {"enabled": False} and packaged["concurrency"]["pools"]["default_limit"] == 1


def test_dg_check_defs_passes_from_the_root_with_dagster_home_unset() -> None:
    before = _tree(ROOT)
    done = subprocess.run(
        [str(BIN / "dg"), "check", "defs"], cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "All definitions loaded successfully." in done.stdout + done.stderr
    assert "DagsterInvalidConfigError" not in done.stdout + done.stderr
    # nothing written into the repository: no data/, no leftover .tmp_dagster_home_*, no file of its own; only the
    # instance's own storages in ./.dagster (what `make check` creates too)
    assert _tree(ROOT) == before
    assert {p.name for p in (ROOT / ".dagster").iterdir()} <= {
        "history",
        "schedules",
        "storage",
        "dagster.yaml",
        ".tokencomp-init.lock",
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, body: dict[str, object] | None = None) -> dict[str, object] | None:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read())
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


RECORD_A_RUN = """
import dagster as dg
from pipelines.instance import open_instance

@dg.asset
def probe() -> None:
    pass

print(dg.materialize([probe], instance=open_instance()).run_id)
"""


@pytest.mark.slow  # starts the webserver, the daemon and a code server: ~20 s on a quiet machine
def test_dg_dev_serves_the_project_instance_from_the_root_with_dagster_home_unset(tmp_path: Path) -> None:
    """A copy of the project root (its pyproject.toml and dagster.yaml; the code linked), so the test keeps its
    instance out of the repository: `tokencomp`'s instance (./.dagster) records a run, and `dg dev` shows it."""
    for name in ("pyproject.toml", "dagster.yaml"):
        (tmp_path / name).write_bytes((ROOT / name).read_bytes())
    for package in ("pipelines", "transforms", "warehouse"):
        (tmp_path / package).symlink_to(ROOT / package)
    env = {**_env(), "PYTHONPATH": str(tmp_path)}
    recorded = subprocess.run(
        [sys.executable, "-c", RECORD_A_RUN], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert recorded.returncode == 0, recorded.stderr
    run_id = recorded.stdout.split()[-1]
    port = _free_port()
    log = (tmp_path / "dev.log").open("w")
    dev = subprocess.Popen(
        [str(BIN / "dg"), "dev", "-h", "127.0.0.1", "-p", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        info = None
        for _ in range(600):  # up to ~5 min of 0.5 s sleeps on a loaded machine
            info = _get(f"http://127.0.0.1:{port}/server_info")
            if info is not None or dev.poll() is not None:
                break
            time.sleep(0.5)
        assert info is not None, (tmp_path / "dev.log").read_text()[-3000:]
        assert info["dagster_version"] == "1.13.27"
        query = "{ instance { info } runsOrError { ... on Runs { results { runId } } } }"
        answer = _get(f"http://127.0.0.1:{port}/graphql", {"query": query})
        assert answer is not None and "errors" not in answer, answer
        data = answer["data"]
        assert [r["runId"] for r in data["runsOrError"]["results"]] == [run_id]  # tokencomp's run, in dg dev
        assert "base_dir: .dagster" in data["instance"]["info"]
        assert "Traceback" not in (tmp_path / "dev.log").read_text()
    finally:
        os.killpg(dev.pid, signal.SIGKILL)
        dev.wait(timeout=60)
        log.close()
    assert (tmp_path / ".dagster" / "history" / "runs.db").is_file()
