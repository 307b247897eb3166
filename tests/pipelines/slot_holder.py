"""A stand-in for a `tokencomp run` caught in its warehouse build: it claims the `duckdb_warehouse` pool slot
in the project's Dagster instance, tagged like a CLI run (pipelines.instance.process_tags), touches the marker
file given as argv[1] and then blocks until it is killed. Tests SIGKILL it to leave a STARTED run holding
the slot, as a `kill -9`, an OOM kill or a reboot during the build does."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import dagster as dg

from pipelines.instance import process_tags
from pipelines.runner import dagster_instance


@dg.asset(key=["core", "fct_spend"], pool="duckdb_warehouse")
def stuck_build() -> None:
    """Hold the warehouse pool slot until killed."""
    Path(sys.argv[1]).touch()
    while True:
        time.sleep(1)


if __name__ == "__main__":
    job = dg.Definitions(assets=[stuck_build], jobs=[dg.define_asset_job("nightly")]).resolve_job_def("nightly")
    job.execute_in_process(instance=dagster_instance(), tags={"tokencomp/trigger": "cli", **process_tags()})
