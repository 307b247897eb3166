"""Run the nightly job in process, through Dagster, against the project's Dagster instance.

`tokencomp run` and `tokencomp demo` both come here, so a CLI run is recorded in the same instance
(`./.dagster` unless DAGSTER_HOME says otherwise) that `dg dev` shows.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl

from pipelines.clients import pullable
from pipelines.definitions import build_definitions
from pipelines.defs.automation import RANGE_END, RANGE_START, changed_from
from pipelines.defs.lake import LAKE_USAGE
from pipelines.defs.months import MONTH_TAG, REPRICE_CONFIG, REPRICE_JOB
from pipelines.defs.pull import PREFIX as PULL_PREFIX
from pipelines.defs.pull import ProviderStep
from pipelines.defs.resources import TokencompResource
from pipelines.instance import open_instance, process_tags, watch_run
from pipelines.progress import ProgressEvent, with_progress
from pipelines.services.warehouse import month_end

COMMAND_TAG = "tokencomp/command"  # close / reprice: which command a month's runs were for
WAREHOUSE_GROUPS = ("warehouse", "marts")  # the published tables (core.* and mart.*)


@dataclass(frozen=True)
class PullOutcome:
    """What one pull run did per source (or provider step): pulled (with a note), skipped or failed (why)."""

    run_id: str
    pulled: Mapping[str, str] = field(default_factory=dict)
    skipped: Mapping[str, str] = field(default_factory=dict)
    failed: Mapping[str, str] = field(default_factory=dict)
    changed_from: date | None = None

    def lines(self) -> list[str]:
        """One line per pulled source, per missing key (its sources together) and per failed source."""
        out = [f"pulled       {name}  {note}" for name, note in self.pulled.items()]
        by_reason: dict[str, list[str]] = {}
        for name, reason in self.skipped.items():
            by_reason.setdefault(reason, []).append(name)
        out += [f"warning: not pulled: {', '.join(names)}: {reason}" for reason, names in by_reason.items()]
        out += [f"warning: pull failed: {reason}" for reason in self.failed.values()]
        return out


@dataclass(frozen=True)
class RunOutcome:
    """How a run ended: success, which steps failed, and which blocking checks stopped downstream.

    `pull` is the pull run that came first (None when the run did not pull, as in the demo)."""

    run_id: str
    success: bool
    failed_steps: tuple[str, ...]
    failed_checks: tuple[str, ...]
    error: str
    pull: PullOutcome | None = None
    window: tuple[date, date] | None = None
    warnings: tuple[str, ...] = ()  # the failed WARN checks, one line each (they stop nothing: exit 0)

    def pull_failure(self) -> str:
        """The one line saying which sources' pulls failed while the build published everyone else's."""
        failed = ", ".join(self.pull.failed) if self.pull else ""
        start, end = self.window or ("?", "?")
        return (
            f"run {self.run_id[:8]} published {start} … {end}, but the pull failed for {failed}: "
            "the warehouse holds its last good data (`tokencomp status`)"
        )

    @property
    def exit_code(self) -> int:
        """DESIGN exit codes: 0 done, 3 a blocking check stopped downstream, 2 a provider/IO failure
        (a failed pull too, even though the build published everything else)."""
        if self.success:
            return 2 if self.pull is not None and self.pull.failed else 0
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
    pull: bool = False,
    pull_window: tuple[date, date] | None = None,
    provider_steps: Mapping[str, ProviderStep] | None = None,
) -> RunOutcome:
    """Materialize the nightly job for billing days [start, end] in one run (single-run backfill).

    With `pull`, the `pull` job runs first for the same days, or `pull_window` (each source also re-pulls
    its trailing window), and the build then covers the days from the first one a pull changed. A failed pull fails its
    own asset only: the build runs anyway (Dagster would abandon it inside the same run) and the outcome
    says which source failed (exit code 2).

    `progress`, when given, receives each step's start, counts and end as the run goes (the CLI's display).
    `say` gets notices (waiting for a pool slot, slots freed). Ctrl-C raises KeyboardInterrupt once the
    run is recorded as failed; nothing is half-published (the warehouse is built aside).
    """
    resource = TokencompResource(
        config_path=str(config_path) if config_path else None,
        data_dir=str(data_dir) if data_dir else None,
        landed_at=landed_at.isoformat() if landed_at else None,
    )
    defs = build_definitions(resource, provider_steps)
    instance = instance or dagster_instance()
    pulled: PullOutcome | None = None
    if pull:
        result = _execute(defs.resolve_job_def("pull"), instance, *(pull_window or (start, end)), progress, say)
        pulled = pull_outcome(result.run_id, result.all_events, changed_from(instance, result.run_id))
        if pulled.changed_from is not None and pulled.changed_from < start:
            say(f"re-pulled pages cover {pulled.changed_from} … {start - timedelta(days=1)}: the build covers them too")
            start = pulled.changed_from
    result = _execute(defs.resolve_job_def("nightly"), instance, start, end, progress, say)
    return _outcome(result, (start, end), pulled)


def _outcome(
    result: dg.ExecuteInProcessResult, window: tuple[date, date], pulled: PullOutcome | None = None
) -> RunOutcome:
    """What one finished run means for the CLI: success unless a step or a blocking check failed; the WARN
    checks that failed, as lines."""
    failed_steps, failed_checks, error = explain(result.all_events)
    warnings = tuple(o.line() for o in failed_checks_of(result.all_events) if not o.blocking)
    success = result.success and not failed_checks
    return RunOutcome(result.run_id, success, failed_steps, failed_checks, error, pulled, window, warnings)


def run_month(
    command: str,
    month: date,
    *,
    config_path: Path | None = None,
    data_dir: Path | None = None,
    instance: dg.DagsterInstance | None = None,
    progress: Callable[[ProgressEvent], None] | None = None,
    say: Callable[[str], None] = print,
) -> RunOutcome:
    """`tokencomp close` / `tokencomp reprice` for `month` as Dagster runs tagged with it (tokencomp/month).

    close: one `close` run, freezing the month's books (exports/closed_books). reprice: three runs in order: the
    month's lake days rebuilt (a `nightly` run of lake/usage alone), the `reprice` run recomputing the books from
    that lake, and the warehouse republished from the new books (a `nightly` run of the warehouse's assets). The
    first run that fails stops the rest, and its outcome says why (exit codes as `run_nightly`'s)."""
    resource = TokencompResource(
        config_path=str(config_path) if config_path else None, data_dir=str(data_dir) if data_dir else None
    )
    defs = build_definitions(resource)
    instance = instance or dagster_instance()
    first = resource.settings().first_partition_date
    start, end = max(month, first), min(month_end(month), datetime.now(UTC).date() - timedelta(days=1))
    tags = {MONTH_TAG: f"{month:%Y-%m}", COMMAND_TAG: command}

    warned: list[str] = []  # a reprice's WARN lines, over its runs

    def run(job: str, **how: Any) -> RunOutcome:
        result = _execute(defs.resolve_job_def(job), instance, start, end, progress, say, tags=tags, **how)
        outcome = _outcome(result, (start, end))
        warned.extend(w for w in outcome.warnings if w not in warned)
        return replace(outcome, warnings=tuple(warned))

    if command != REPRICE_JOB:
        return run(command, month=tags[MONTH_TAG])
    if start <= end:
        rebuilt = run("nightly", assets=[LAKE_USAGE])
        if not rebuilt.success:
            return rebuilt
    repriced = run(REPRICE_JOB, month=tags[MONTH_TAG], run_config=REPRICE_CONFIG)
    if not repriced.success:
        return repriced
    return run("nightly", assets=[s.key for s in defs.resolve_all_asset_specs() if s.group_name in WAREHOUSE_GROUPS])


def _execute(
    job: dg.JobDefinition,
    instance: dg.DagsterInstance,
    start: date,
    end: date,
    progress: Callable[[ProgressEvent], None] | None,
    say: Callable[[str], None],
    *,
    month: str | None = None,
    tags: Mapping[str, str] | None = None,
    assets: Sequence[dg.AssetKey] | None = None,
    run_config: Mapping[str, object] | None = None,
) -> dg.ExecuteInProcessResult:
    """One in-process run of `job` for billing days [start, end] (or, for a monthly job, partition `month`),
    recorded in `instance`; `assets` runs only those of the job's assets."""
    loggers: dict[str, object] = {"console": {"config": {"log_level": "CRITICAL"}}}
    if progress is not None:
        job, loggers["tokencomp_progress"] = with_progress(job, progress), {}
    run_id = str(uuid.uuid4())
    window = {} if month else {RANGE_START: start.isoformat(), RANGE_END: end.isoformat()}
    with watch_run(instance, run_id, say) as watch:
        result = job.execute_in_process(
            instance=instance,
            run_id=run_id,
            partition_key=month,
            tags={**window, "tokencomp/trigger": "cli", **process_tags(), **(tags or {})},
            run_config={**(run_config or {}), "loggers": loggers},
            raise_on_error=False,
            asset_selection=assets,
        )
    if watch.interrupted:
        raise KeyboardInterrupt
    return result


def pull_outcome(run_id: str, events: Iterable[dg.DagsterEvent], changed: date | None = None) -> PullOutcome:
    """Per source (or provider step) of a pull run: what was pulled, skipped (why) and failed (why)."""
    pulled: dict[str, str] = {}
    skipped: dict[str, str] = {}
    failed: dict[str, str] = {}
    for event in events:
        if event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
            key, meta = event.asset_key, event.step_materialization_data.materialization.metadata
            if key is not None and key.path[0] == PULL_PREFIX:
                pulled[key.path[-1]] = _pulled_note(meta)
        elif event.event_type == dg.DagsterEventType.ASSET_OBSERVATION:
            key, meta = event.asset_key, event.asset_observation_data.asset_observation.metadata
            if key is not None and key.path[0] == PULL_PREFIX and "skipped" in meta:
                skipped[key.path[-1]] = str(meta["skipped"].value)
        elif event.event_type == dg.DagsterEventType.STEP_FAILURE and event.step_key:
            failed[event.step_key.removeprefix(f"{PULL_PREFIX}__")] = _failure_reason(event)
    order = {name: i for i, name in enumerate(pullable())}  # registry order, then provider steps by name

    def ordered(found: dict[str, str]) -> dict[str, str]:
        return dict(sorted(found.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))

    return PullOutcome(run_id, ordered(pulled), ordered(skipped), ordered(failed), changed)


def _pulled_note(meta: Mapping[str, dg.MetadataValue]) -> str:
    if "pulled_from" not in meta:
        return str(meta["result"].value) if "result" in meta else "done"
    value = {k: v.value for k, v in meta.items()}
    new = f", {value['pages_landed']} new" if value["pages_landed"] != value["pages"] else ""
    bad = f", {value['pages_quarantined']} quarantined" if value["pages_quarantined"] else ""
    return f"{value['pulled_from']} … {value['pulled_to']}: {value['pages']} page(s){new}{bad}"


def pull_status(instance: dg.DagsterInstance, manifest: pl.DataFrame) -> list[str]:
    """`tokencomp status` lines on the last pull run: each source pulled, and as warnings each skipped (no key)
    and each failed one, with how fresh the data the warehouse holds for it is (from the manifest)."""
    last = last_pull(instance)
    if last is None:
        return ["Last pull: none (`tokencomp run` pulls every source whose key is set)"]
    run, pulled = last
    lines = [f"Last pull: run {run.run_id[:8]} ({run.status.value})"]
    lines += [line[0].upper() + line[1:] if line.startswith("warning") else f"  {line}" for line in pulled.lines()]
    for source in pulled.failed:
        through = manifest.filter(pl.col("source") == source)["max_date"].max()
        lines.append(
            f"Warning: {source} is stale: the warehouse holds its last good data (through {through or 'never'})"
        )
    return lines


def last_pull(instance: dg.DagsterInstance) -> tuple[dg.DagsterRun, PullOutcome] | None:
    """The latest recorded `pull` run and what it did per source (for `tokencomp status`)."""
    runs = instance.get_runs(filters=dg.RunsFilter(job_name="pull"), limit=1)
    if not runs:
        return None
    events = [e.dagster_event for e in instance.all_logs(runs[0].run_id) if e.dagster_event is not None]
    return runs[0], pull_outcome(runs[0].run_id, events)


@dataclass(frozen=True)
class CheckOutcome:
    """A failed asset check of a run: which, on which asset, whether it blocked (ERROR) or warned, and why."""

    check: str
    asset: str
    blocking: bool
    description: str

    def line(self) -> str:
        """One line naming the check, its asset and why it failed."""
        kind = "blocking check" if self.blocking else "check"
        return f"{kind} {self.check} ({self.asset}): {self.description or 'failed'}"


def failed_checks_of(events: Iterable[dg.DagsterEvent]) -> tuple[CheckOutcome, ...]:
    """The failed checks among a run's events: evaluations that did not pass (blocking only when the check is
    blocking and its severity ERROR), and blocking checks an asset raised as dg.Failure(metadata blocking_check)
    without an evaluation of its own."""
    found: list[CheckOutcome] = []
    for event in events:
        if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            data = event.asset_check_evaluation_data
            if not data.passed:
                blocking = bool(data.blocking) and data.severity == dg.AssetCheckSeverity.ERROR
                found.append(
                    CheckOutcome(data.check_name, data.asset_key.to_user_string(), blocking, data.description or "")
                )
        elif event.event_type == dg.DagsterEventType.STEP_FAILURE and event.step_failure_data.user_failure_data:
            check = event.step_failure_data.user_failure_data.metadata.get("blocking_check")
            if check is not None and not any(o.blocking and o.check == str(check.value) for o in found):
                asset = (event.step_key or "").replace("__", "/")
                found.append(CheckOutcome(str(check.value), asset, True, _failure_reason(event)))
    return tuple(found)


def explain(events: Iterable[dg.DagsterEvent]) -> tuple[tuple[str, ...], tuple[str, ...], str]:
    """From a run's events: the failed steps, the failed blocking checks (`asset:check`), and a one-line reason
    (the blocking checks' own, when one failed). A failed WARN check is not a failure."""
    events = list(events)
    failed_steps = tuple(e.step_key for e in events if e.event_type == dg.DagsterEventType.STEP_FAILURE and e.step_key)
    blocking = [o for o in failed_checks_of(events) if o.blocking]
    if blocking:
        return failed_steps, tuple(f"{o.asset}:{o.check}" for o in blocking), "; ".join(o.line() for o in blocking)
    error = next((_failure_reason(e) for e in events if e.event_type == dg.DagsterEventType.STEP_FAILURE), "")
    return failed_steps, (), error


def check_status(instance: dg.DagsterInstance) -> list[str]:
    """`tokencomp status` lines on the last nightly run's checks: each failed blocking check and each warning."""
    runs = instance.get_runs(filters=dg.RunsFilter(job_name="nightly"), limit=1)
    if not runs:
        return []
    run = runs[0]
    events = [
        e.dagster_event
        for e in instance.all_logs(run.run_id)
        if e.dagster_event is not None
        and e.dagster_event.event_type in (dg.DagsterEventType.ASSET_CHECK_EVALUATION, dg.DagsterEventType.STEP_FAILURE)
    ]
    evaluated = sum(e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION for e in events)
    failed = failed_checks_of(events)
    head = f"Checks of run {run.run_id[:8]} ({run.status.value}): {evaluated} evaluated, "
    head += f"{sum(o.blocking for o in failed)} blocking failed, {sum(not o.blocking for o in failed)} warned"
    return [head, *(("  Failed: " if o.blocking else "  Warning: ") + o.line() for o in failed)]


def _failure_reason(event: dg.DagsterEvent) -> str:
    """The one-line reason of a STEP_FAILURE: the asset's own Failure description, else the error's first line."""
    data = event.step_failure_data
    if data.user_failure_data is not None:
        return data.user_failure_data.description or ""
    err = data.error
    if err is None:
        return ""
    while err.cause is not None and err.cls_name == "DagsterExecutionStepExecutionError":
        err = err.cause
    return err.message.strip().splitlines()[0] if err.message.strip() else err.cls_name or ""


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
