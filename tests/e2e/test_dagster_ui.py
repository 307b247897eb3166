"""The Dagster UI really works on the project's instance: after a real `tokencomp run`, the webserver on 127.0.0.1
serves over GraphQL exactly the asset graph, checks, schedules and sensors `build_definitions()` declares, and
headless Chromium (Debian's `chromium`) renders the asset-graph page with every asset on it.

The screenshot is kept as docs/ui-asset-graph.png in the README; to refresh it:
`TOKENCOMP_UI_SCREENSHOT=docs/ui-asset-graph.png .venv/bin/pytest -q tests/e2e/test_dagster_ui.py`.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from matplotlib.image import imread

from pipelines.definitions import build_definitions
from pipelines.defs.resources import TokencompResource
from tests.conftest import SAMPLES
from tests.e2e.test_finance_outputs import CHROMIUM_FLAGS, _chromium

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
DAY = "2025-08-01"  # the day the Anthropic samples cover
TIMEOUT = 600  # seconds; only reached when something hangs
SHOT_WIDTH = 1600  # pixels of the saved screenshot, whatever the graph's size

WORKSPACE = """
{ workspaceOrError { __typename ... on Workspace { locationEntries { name loadStatus
  locationOrLoadError { __typename ... on PythonError { message }
    ... on RepositoryLocation { repositories { name
      schedules { name cronSchedule executionTimezone }
      sensors { name }
      jobs { name } } } } } } } }
"""
ASSETS = """
{ assetNodes { assetKey { path } groupName
  assetChecksOrError { __typename ... on AssetChecks { checks { name blocking } } } } }
"""
RUNS = "{ runsOrError { __typename ... on Runs { results { runId jobName status } } } }"


@dataclass(frozen=True)
class Ui:
    """A running webserver on the project's instance, and the runs (id, job, status) it recorded before."""

    url: str
    root: Path
    runs: tuple[tuple[str, str, str], ...]

    def graphql(self, query: str) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{self.url}/graphql", json.dumps({"query": query}).encode(), {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=120) as response:
            body = json.load(response)
        assert "errors" not in body, body["errors"]
        return body["data"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "TOKENCOMP_CONFIG"}
    return {**env, "DAGSTER_HOME": str(home), "PYTHONPATH": str(REPO), "COLUMNS": "200"}


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ui]:
    """One real run of the sample day in a fresh project folder, then `dagster-webserver` on its instance."""
    root = tmp_path_factory.mktemp("dagster_ui")
    home = root / ".dagster"
    home.mkdir()
    shutil.copyfile(str(files("pipelines").joinpath("dagster.yaml")), home / "dagster.yaml")
    for source, name in (
        ("anthropic_usage", "anthropic_usage_report_messages_example.json"),
        ("anthropic_cost", "anthropic_cost_report_example.json"),
    ):
        (root / "data" / "landing" / source).mkdir(parents=True)
        shutil.copyfile(SAMPLES / name, root / "data" / "landing" / source / name)
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "run", "--date", DAY],
        cwd=root,
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert done.returncode == 0, done.stderr
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DAGSTER_HOME", str(home))  # the packaged dagster.yaml puts the storage there
        with dg.DagsterInstance.from_config(str(home)) as instance:
            runs = tuple((r.run_id, r.job_name, r.status.value) for r in instance.get_runs())
    assert [job for _, job, _ in runs] == ["nightly", "pull"]  # `tokencomp run`: the pull, then the build
    port = _free_port()
    log = (root / "webserver.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "dagster_webserver", "-h", "127.0.0.1", "-p", str(port), "-m", "pipelines.definitions"],
        cwd=root,
        env=_env(home),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its code server is a child of its own: stop them together
    )
    try:
        found = Ui(f"http://127.0.0.1:{port}", root, runs)
        _wait_until_loaded(found, server)
        yield found
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


def _wait_until_loaded(ui: Ui, server: subprocess.Popen[bytes]) -> None:
    """Poll (a bounded number of times) until the webserver answers and the code location has loaded."""
    status = "not answering"
    for _ in range(600):
        if server.poll() is not None:
            break
        try:
            entries = ui.graphql(WORKSPACE)["workspaceOrError"]["locationEntries"]
            status = ",".join(e["loadStatus"] for e in entries) or "no location"
            if status == "LOADED":
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    log = (ui.root / "webserver.log").read_text()[-2000:]
    pytest.fail(f"the webserver's code location never loaded ({status}); its log ends:\n{log}")


def _declared(root: Path, monkeypatch: pytest.MonkeyPatch) -> dg.Definitions:
    """What the code location declares, built in this process as `dg dev` builds it in that folder."""
    monkeypatch.chdir(root)
    monkeypatch.delenv("TOKENCOMP_CONFIG", raising=False)
    return build_definitions(TokencompResource())


def test_the_webserver_serves_the_declared_asset_graph_checks_schedules_sensors_and_run_history(
    ui: Ui, monkeypatch: pytest.MonkeyPatch
) -> None:
    defs = _declared(ui.root, monkeypatch)
    graph = defs.resolve_asset_graph()
    nodes = ui.graphql(ASSETS)["assetNodes"]

    assert {(tuple(n["assetKey"]["path"]), n["groupName"]) for n in nodes} == {
        (tuple(k.path), graph.get(k).group_name) for k in graph.get_all_asset_keys()
    }
    served_checks = {
        (tuple(n["assetKey"]["path"]), c["name"], c["blocking"])
        for n in nodes
        for c in n["assetChecksOrError"]["checks"]
    }
    assert served_checks == {
        (tuple(k.asset_key.path), k.name, graph.get_check_spec(k).blocking) for k in graph.asset_check_keys
    }
    assert nodes and served_checks  # an empty graph would pass the equalities above

    (entry,) = ui.graphql(WORKSPACE)["workspaceOrError"]["locationEntries"]
    (repo,) = entry["locationOrLoadError"]["repositories"]
    schedules = [defs.resolve_schedule_def(s.name) for s in defs.schedules or []]
    assert {(s["name"], s["cronSchedule"], s["executionTimezone"]) for s in repo["schedules"]} == {
        (s.name, s.cron_schedule, s.execution_timezone) for s in schedules
    }
    assert {s["name"] for s in repo["sensors"]} == {s.name for s in defs.sensors or []}
    assert {j["name"] for j in repo["jobs"] if not j["name"].startswith("__")} == {
        j.name for j in defs.resolve_all_job_defs() if not j.name.startswith("__")
    }

    runs = ui.graphql(RUNS)["runsOrError"]["results"]
    assert {(r["runId"], r["jobName"], r["status"]) for r in runs} == set(ui.runs)
    assert {status for _, _, status in ui.runs} == {"SUCCESS"}


def _chromium_page(chromium: str, url: str, profile: Path, width: int, height: int, *extra: str) -> str:
    """One headless Chromium load of `url` in a `width` x `height` CSS-pixel window; its stdout."""
    scale = SHOT_WIDTH / width
    return subprocess.run(
        [
            chromium,
            *CHROMIUM_FLAGS,
            # virtual time stands still while the page's GraphQL requests are pending: the budget is the UI's own
            # timers (the graph layout, its fade-in) once they are answered
            "--virtual-time-budget=30000",
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            f"--force-device-scale-factor={scale:.4f}",
            *extra,
            url,
        ],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=True,
    ).stdout


def test_the_asset_graph_page_renders_every_asset_in_headless_chromium(
    ui: Ui, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chromium = _chromium()
    defs = _declared(ui.root, monkeypatch)
    graph = defs.resolve_asset_graph()
    keys = graph.get_all_asset_keys()
    groups = sorted({graph.get(k).group_name for k in keys})
    ui.graphql("mutation { setNuxSeen }")  # the first-visit "join the community" dialog, as clicking Skip does
    url = f"{ui.url}/asset-groups?expanded={','.join(f'global@global:{g}' for g in groups)}"

    # first load: the graph's laid-out size; the second is sized so the whole graph fits at full detail
    svg = re.compile(r'<svg class="AssetGraphExplorer_svgContainer[^"]*" width="([\d.]+)" height="([\d.]+)"')
    size = None
    for attempt in range(3):  # the layout runs in a web worker, on real time: a loaded machine may need another go
        dom = _chromium_page(chromium, url, tmp_path / f"profile1-{attempt}", 2400, 1500, "--dump-dom")
        if size := svg.search(dom):
            break
    assert size is not None, "the asset graph never rendered in Chromium"
    # plus the navigation and the asset tree on the left, the header on top
    width, height = int(float(size.group(1))) + 560, int(float(size.group(2))) + 160
    # every asset node and group header carries its name as a tooltip: each asset exactly once, each group once
    expected = Counter([k.path[-1] for k in keys] + groups)
    for attempt in range(3):
        dom = _chromium_page(chromium, url, tmp_path / f"profile2-{attempt}", width, height, "--dump-dom")
        shown = Counter(html.unescape(t) for t in re.findall(r'data-tooltip="([^"]*)"', dom))
        if shown == expected:
            break
    scale = re.search(r"transform: matrix\(([\d.]+), 0, 0, [\d.]+, [-\d.]+, [-\d.]+\);\"><svg class=\"AssetGraph", dom)
    assert scale is not None and float(scale.group(1)) >= 0.6, "the graph is drawn below full detail"
    assert shown == expected
    # the run history reached the page: the materialized assets link to the run that built them
    assert f"/runs/{ui.runs[0][0]}" in dom

    shot = tmp_path / "ui-asset-graph.png"
    _chromium_page(chromium, url, tmp_path / "profile3", width, height, f"--screenshot={shot}")
    pixels = imread(shot)
    # Chromium rounds a small device scale factor up a little: about SHOT_WIDTH wide, never less
    assert SHOT_WIDTH <= pixels.shape[1] <= 1.25 * SHOT_WIDTH and pixels.shape[0] >= 600
    assert pixels[..., :3].std() > 0.02  # not a blank page (a big graph is mostly white canvas around its nodes)
    if target := os.environ.get("TOKENCOMP_UI_SCREENSHOT"):
        shutil.copyfile(shot, target)
