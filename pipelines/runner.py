"""Run the nightly job in process, through Dagster, against the project's Dagster instance.

`tokencomp run` and `tokencomp demo` both come here, so a CLI run is recorded in the same instance
(`./.dagster` unless DAGSTER_HOME says otherwise) that `dg dev` shows.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import dagster as dg

from pipelines.definitions import build_definitions
from pipelines.defs.resources import TokencompResource
from pipelines.instance import open_instance, process_tags, watch_run
from pipelines.progress import ProgressEvent, with_progress


@dataclass(frozen=True)
class RunOutcome:
    """How a run ended: success, which steps failed, and which blocking checks stopped downstream."""

    run_id: str
    success: bool
    failed_steps: tuple[str, ...]
    failed_checks: tuple[str, ...]
    error: str

    @property
    def exit_code(self) -> int:
        """DESIGN exit codes: 0 done, 3 a blocking check stopped downstream, 2 a provider/IO failure."""
        if self.success:
            return 0
        return 3 if self.failed_checks else 2


def dagster_instance() -> dg.DagsterInstance:
    """The persistent instance: $DAGSTER_HOME, or ./.dagster created with the packaged dagster.yaml
    (initialised once, under a lock; see pipelines.instance)."""
    return open_instance()


def run_nightly(
    start: date,
    end: date,
    *,
    config_path: Path | None = None,
    data_dir: Path | None = None,
    landed_at: datetime | None = None,
    instance: dg.DagsterInstance | None = None,
    progress: Callable[[ProgressEvent], None] | None = None,
    say: Callable[[str], None] = print,
) -> RunOutcome:
    """Materialize the nightly job for billing days [start, end] in one run (single-run backfill).

    `progress`, when given, receives each step's start, counts and end as the run goes (the CLI's display).
    `say` gets notices (waiting for a pool slot, slots freed). Ctrl-C raises KeyboardInterrupt once the
    run is recorded as failed; nothing is half-published (the warehouse is built aside).
    """
    resource = TokencompResource(
        config_path=str(config_path) if config_path else None,
        data_dir=str(data_dir) if data_dir else None,
        landed_at=landed_at.isoformat() if landed_at else None,
    )
    job = build_definitions(resource).resolve_job_def("nightly")
    loggers: dict[str, object] = {"console": {"config": {"log_level": "CRITICAL"}}}
    if progress is not None:
        job, loggers["tokencomp_progress"] = with_progress(job, progress), {}
    instance = instance or dagster_instance()
    run_id = str(uuid.uuid4())
    with watch_run(instance, run_id, say) as watch:
        result = job.execute_in_process(
            instance=instance,
            run_id=run_id,
            tags={
                "dagster/asset_partition_range_start": start.isoformat(),
                "dagster/asset_partition_range_end": end.isoformat(),
                "tokencomp/trigger": "cli",
                **process_tags(),
            },
            run_config={"loggers": loggers},
            raise_on_error=False,
        )
    if watch.interrupted:
        raise KeyboardInterrupt
    failed_steps, failed_checks, error = explain(result.all_events)
    return RunOutcome(result.run_id, result.success and not failed_checks, failed_steps, failed_checks, error)


def explain(events: Iterable[dg.DagsterEvent]) -> tuple[tuple[str, ...], tuple[str, ...], str]:
    """From a run's events: the failed steps, the failed blocking checks, and a one-line reason."""
    events = list(events)
    failed_steps = tuple(e.step_key for e in events if e.event_type == dg.DagsterEventType.STEP_FAILURE and e.step_key)
    failed_checks = tuple(
        f"{e.asset_check_evaluation_data.asset_key.to_user_string()}:{e.asset_check_evaluation_data.check_name}"
        for e in events
        if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION and not e.asset_check_evaluation_data.passed
    )
    error = ""
    for event in events:
        if event.event_type != dg.DagsterEventType.STEP_FAILURE:
            continue
        data = event.step_failure_data
        if data.user_failure_data is not None:
            error = data.user_failure_data.description or ""
            check = data.user_failure_data.metadata.get("blocking_check")
            if check is not None:
                failed_checks = (*failed_checks, f"{event.step_key}:{check.value}")
        elif data.error is not None:
            err = data.error
            while err.cause is not None and err.cls_name == "DagsterExecutionStepExecutionError":
                err = err.cause
            error = err.message.strip().splitlines()[0] if err.message.strip() else err.cls_name or ""
        break
    if failed_checks and not error:
        error = f"blocking check failed: {', '.join(failed_checks)}"
    return failed_steps, failed_checks, error


def run_failure(instance: dg.DagsterInstance, run_id: str) -> str:
    """The one-line reason a recorded run failed, from the instance's event log (for `tokencomp status`)."""
    events = [
        entry.dagster_event
        for entry in instance.all_logs(run_id)
        if entry.dagster_event is not None
        and entry.dagster_event.event_type
        in (dg.DagsterEventType.STEP_FAILURE, dg.DagsterEventType.ASSET_CHECK_EVALUATION)
    ]
    reason = explain(events)[2]
    if reason:
        return reason
    for entry in reversed(instance.all_logs(run_id, of_type=dg.DagsterEventType.RUN_FAILURE)):
        if entry.dagster_event is not None and entry.dagster_event.message:
            return entry.dagster_event.message
    return ""
