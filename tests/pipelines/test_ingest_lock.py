"""Two sweeps of one inbox never take the same file: landing/ is listed, landed and emptied under raw/'s lock."""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from pipelines.config import Settings
from pipelines.services.ingest import Outcome, read_manifest, sweep_landing
from tests.conftest import land_sample

AT = datetime(2026, 3, 6, 6, 0, tzinfo=UTC)


def _someone_waits_for(lock: Path) -> bool:
    """Whether a flock on `lock` is blocked, waiting (Linux lists waiters in /proc/locks with `->`)."""
    inode = f":{os.stat(lock).st_ino} "
    return any("-> FLOCK" in line and inode in line for line in Path("/proc/locks").read_text().splitlines())


def test_a_sweep_lists_landing_only_once_it_holds_the_raw_lock(settings: Settings) -> None:
    """While another sweep holds raw/'s lock, the inbox changes: one file goes, another comes. The waiting
    sweep lands what is there when it gets the lock, not what was there when it started."""
    gone = land_sample(settings, "openai_costs", "openai_costs_grouped_example.json", as_name="gone.json")
    came = gone.with_name("came.json")
    came.write_text(json.dumps(json.loads(gone.read_text()), indent=1))  # other bytes, same content
    staged = came.read_bytes()
    came.unlink()
    settings.raw.mkdir(parents=True, exist_ok=True)
    lock = settings.raw / ".lock"
    result: list[list[Outcome]] = []
    with lock.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        sweep = threading.Thread(target=lambda: result.append(sweep_landing(settings, "openai_costs", landed_at=AT)))
        sweep.start()
        for _ in range(6000):  # polls /proc/locks until the sweep waits for the lock (a minute at most)
            if _someone_waits_for(lock):
                break
            time.sleep(0.01)
        else:
            raise AssertionError("the sweep never asked for raw/'s lock")
        gone.unlink()  # the other sweep took it
        came.write_bytes(staged)
        fcntl.flock(held, fcntl.LOCK_UN)
    sweep.join(timeout=120)
    [outcomes] = result
    assert [(o.name, o.status, o.parsed) for o in outcomes] == [("openai_costs/came.json", "landed", 5)]
    assert read_manifest(settings)["name"].to_list() == ["openai_costs/came.json"]
    assert not came.exists()
