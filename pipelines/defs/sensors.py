"""The landing sensor: a file dropped in landing/<source>/ during the day is ingested into raw/ soon after, once.

The nightly schedule stays the primary path (its build sweeps landing/ too); the sensor only saves the wait, so a
bad delivery is quarantined with its reason the same hour, not the next morning. It ships STOPPED: a platform team
turns it on deliberately (UI, or `dagster sensor start landing_sensor -m pipelines.definitions`), with the
daemon running.

- Its runs (`ingest_landing`) ingest only: raw/<source> of the sources with new files. The lake and the warehouse
  are rebuilt and published by the nightly build, once a night, after its blocking checks: a dropped file never
  republishes the books in the middle of the day, and never competes with the nightly for the DuckDB writer slot.
- A file is known by (path under landing/<source>/, size, mtime_ns). The cursor keeps the files already requested
  that are still in landing/ (ingest moves files out, so it stays as small as the inbox); a file changed in place
  is a new delivery. Dagster's run_key dedups the same set of files too.
- A source waits while any of its files changed less than `[schedule] landing_settle_seconds` ago (still being
  copied): its sweep would read every file in the folder, a half-written one too.
- Nothing is requested while an ingest, a pull or a build run is queued or running: two sweeps of one folder at
  once would both read the same files (and the build follows the pull within seconds).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterable

import dagster as dg

from pipelines.config import Settings
from pipelines.defs.automation import nightly_job, pull_job
from pipelines.defs.ingest import RAW_ASSETS
from pipelines.services.discovery import discover

INGEST_LANDING = "ingest_landing"
SENSOR = "landing_sensor"
INTERVAL_SECONDS = 30
BUSY = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]

Identity = tuple[int, int]  # size, mtime_ns
Seen = dict[str, dict[str, Identity]]  # source → path under landing/<source>/ → identity


def raw_keys() -> list[dg.AssetKey]:
    """The raw/<source> assets, one per source in the registry."""
    return [asset.key for asset in RAW_ASSETS]


ingest_landing_job = dg.define_asset_job(
    INGEST_LANDING,
    selection=dg.AssetSelection.assets(*raw_keys()),
    # the sweeps take raw/'s lock one after another anyway: one process, not one per source
    executor_def=dg.in_process_executor,
    description=(
        "Ingest what was dropped in landing/<source>/ into raw/ (or quarantine/), for the sources the landing "
        "sensor found new files in. The nightly build puts them in the lake and the warehouse."
    ),
)


def read_cursor(cursor: str | None) -> Seen:
    """The files already requested, per source, from the sensor's stored cursor."""
    if not cursor:
        return {}
    return {
        source: {name: (int(ident[0]), int(ident[1])) for name, ident in files.items()}
        for source, files in json.loads(cursor)["seen"].items()
    }


def write_cursor(seen: Seen) -> str:
    """The cursor to store: sorted, so the same files give the same bytes."""
    return json.dumps({"seen": {s: dict(sorted(f.items())) for s, f in sorted(seen.items()) if f}}, sort_keys=True)


def landed_files(settings: Settings, source: str) -> dict[str, os.stat_result]:
    """What the next sweep of landing/<source>/ would read (the ingest's own discovery), by path under it."""
    folder = settings.landing / source
    if not folder.is_dir():
        return {}
    found = discover(source, [folder], inbox=settings.landing)
    return {path.relative_to(folder).as_posix(): path.stat() for path, _, _ in found}


def run_key(new: dict[str, dict[str, os.stat_result]]) -> str:
    """One key per set of files: Dagster never starts a second run for the same set. The inode change time is in
    it too, so the same bytes dropped again later (`cp -p` keeps size and mtime) are a delivery of their own."""
    files = {s: {n: [st.st_size, st.st_mtime_ns, st.st_ctime_ns] for n, st in f.items()} for s, f in new.items()}
    digest = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()
    return f"landing-{digest[:32]}"


def _busy(instance: dg.DagsterInstance, jobs: Iterable[str]) -> list[dg.DagsterRun]:
    return [
        run for job in jobs for run in instance.get_runs(filters=dg.RunsFilter(job_name=job, statuses=BUSY), limit=1)
    ]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def landing_sensor(settings: Settings, settle_seconds: float | None = None) -> dg.SensorDefinition:
    """The sensor on landing/<source>/ of every enabled source in the registry (see the module's docstring);
    a folder is swept once its files have been left unchanged `settle_seconds` (default: the config's
    `[schedule] landing_settle_seconds`)."""
    settle_seconds = float(settings.schedule.landing_settle_seconds if settle_seconds is None else settle_seconds)
    sources = [key.path[-1] for key in raw_keys() if key.path[-1] in settings.enabled_sources]

    @dg.sensor(
        name=SENSOR,
        job=ingest_landing_job,
        minimum_interval_seconds=INTERVAL_SECONDS,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description=(
            f"Every {INTERVAL_SECONDS} s: a file dropped in landing/<source>/ (and left unchanged for "
            f"{settle_seconds:g} s) starts an ingest_landing run for its source, once per file. Off by default: "
            "the nightly schedule ingests landing/ anyway."
        ),
    )
    def _sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
        busy = _busy(context.instance, (INGEST_LANDING, pull_job.name, nightly_job.name))
        if busy:
            return dg.SkipReason(f"run {busy[0].run_id[:8]} ({busy[0].job_name}) is in progress; landing/ waits")
        seen = read_cursor(context.cursor)
        now = time.time()
        kept: Seen = {}
        new: dict[str, dict[str, os.stat_result]] = {}
        settling: list[str] = []
        for source in sources:
            try:
                present = landed_files(settings, source)
            except (OSError, ValueError) as exc:  # one unreadable folder must not stop the others
                context.log.warning(f"landing/{source}: not watched this tick: {exc}")
                kept[source] = seen.get(source, {})
                continue
            idents = {name: (st.st_size, st.st_mtime_ns) for name, st in present.items()}
            # a file is forgotten once ingest moved it out; one changed in place is a new delivery
            kept[source] = {name: ident for name, ident in seen.get(source, {}).items() if idents.get(name) == ident}
            fresh = {name: ident for name, ident in idents.items() if name not in kept[source]}
            if not fresh:
                continue
            youngest = max(max(st.st_mtime, st.st_ctime) for st in present.values())
            if now - youngest < settle_seconds:
                settling.append(f"{source} ({_plural(len(fresh), 'new file')})")
                continue
            new[source] = {name: present[name] for name in fresh}
        if not new:
            reason = "no new files in landing/"
            if settling:
                reason = f"still being written, waiting {settle_seconds:g} s: {', '.join(settling)}"
            return dg.SensorResult(skip_reason=reason, cursor=write_cursor(kept))
        for source, files in new.items():
            kept[source] = {**kept[source], **{name: (st.st_size, st.st_mtime_ns) for name, st in files.items()}}
        count = sum(len(files) for files in new.values())
        context.log.info(
            f"ingesting {_plural(count, 'new file')}: "
            + ", ".join(f"{source} {len(files)}" for source, files in new.items())
            + (f"; still being written: {', '.join(settling)}" if settling else "")
        )
        request = dg.RunRequest(
            run_key=run_key(new),
            asset_selection=[dg.AssetKey(["raw", source]) for source in new],
            tags={"tokencomp/trigger": SENSOR, "tokencomp/landing_files": str(count)},
        )
        return dg.SensorResult(run_requests=[request], cursor=write_cursor(kept))

    return _sensor
