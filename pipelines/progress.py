"""Progress of long work for the CLI: the demo generator's stages and a nightly run's steps, with counts.

Dagster runs the nightly job in process. `with_progress` adds a Dagster logger to the job that forwards
each step's start, end and the counts its asset reports (`report_progress`) to a `ProgressDisplay`.

On a terminal the display is a live bar on stderr for the step at work, and one line per finished step
stays on screen. Anywhere else (a pipe, a log file) it writes the same finished-step lines, plain and
flushed, and no live display, so the lines keep their order with the summary printed after them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

if TYPE_CHECKING:  # Dagster is imported only when a run starts, so `tokencomp --help` stays quick
    import dagster as dg

PROGRESS_EXTRA = "tokencomp_progress"  # the `extra` key that carries an asset's counts on a log record


@dataclass(frozen=True)
class ProgressEvent:
    """One thing a display shows: a step started, advanced to done of total units, finished or failed."""

    step: str
    kind: Literal["start", "advance", "finish", "fail"]
    done: int = 0
    total: int = 0
    unit: str = ""
    note: str = ""


def report_progress(log: logging.Logger, step: str, done: int, total: int, unit: str, note: str = "") -> None:
    """From inside an asset: how far `step` is (done of total units), and, when it is done, what it did.

    The message also lands in the run's event log, so `dg dev` shows the same counts.
    """
    text = f"{step}: {done:,} of {total:,} {unit}" + (f" ({note})" if note else "")
    log.info(text, extra={PROGRESS_EXTRA: {"done": done, "total": total, "unit": unit, "note": note}})


class ProgressDisplay:
    """Renders progress events on stderr: live on a terminal, one plain flushed line per step elsewhere."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.live = console.is_terminal
        self._progress: Progress | None = None
        self._tasks: dict[str, TaskID] = {}
        self._started: dict[str, float] = {}
        self._last: dict[str, ProgressEvent] = {}

    def __enter__(self) -> ProgressDisplay:
        if self.live:
            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(bar_width=24),
                TextColumn("{task.fields[count]}"),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()
        self.console.file.flush()

    def __call__(self, event: ProgressEvent) -> None:
        """Show one event."""
        if event.kind == "start":
            self._start(event.step)
        elif event.kind == "advance":
            self._start(event.step)
            self._last[event.step] = event
            if self._progress is not None:
                total = event.total or None
                self._progress.update(self._tasks[event.step], completed=event.done, total=total, count=_count(event))
        else:
            self._finish(event)

    def stage(self, step: str, done: int, total: int, unit: str = "") -> None:
        """A callback for work outside Dagster (the demo generator): the step finishes when done == total."""
        self(ProgressEvent(step, "advance", done, total, unit))
        if done >= total:
            self(ProgressEvent(step, "finish"))

    def _start(self, step: str) -> None:
        if step in self._started:
            return
        self._started[step] = time.monotonic()
        if self._progress is not None:
            self._tasks[step] = self._progress.add_task(step, total=None, count="")

    def _finish(self, event: ProgressEvent) -> None:
        step = event.step
        if step not in self._started:
            self._start(step)
        seconds = time.monotonic() - self._started.pop(step)
        last = self._last.pop(step, None)
        count = _count(last) if last is not None else ""
        note = event.note or (last.note if last is not None else "")
        mark = "✓" if event.kind == "finish" else "✗"
        detail = ", ".join(part for part in (count, note) if part)
        line = f"{mark} {step}" + (f": {detail}" if detail else "") + f" ({seconds:.1f}s)"
        if self._progress is not None:
            self._progress.remove_task(self._tasks.pop(step))
        self.console.print(line, markup=False, highlight=False, soft_wrap=False)
        self.console.file.flush()


def _count(event: ProgressEvent) -> str:
    if not event.unit:
        return ""
    unit = event.unit[:-1] if event.unit.endswith("s") and event.total == 1 else event.unit
    if not event.total:
        return f"{event.done:,} {unit}"
    if event.done >= event.total:
        return f"{event.total:,} {unit}"
    return f"{event.done:,}/{event.total:,} {unit}"


def step_labels(job: dg.JobDefinition) -> dict[str, str]:
    """What the display calls each asset step of `job` (its asset key, or a multi-asset's name; `raw/<source>`
    reads `ingest <source>`).

    Check steps are not listed: their outcome is the run's outcome, which the CLI reports.
    """
    labels = {}
    for key in job.asset_layer.executable_asset_keys:
        name = key.to_user_string()
        node = job.asset_layer.get_op_output_handle(key).node_handle
        assets = job.asset_layer.get_assets_def_for_node(node)
        if assets is not None and len(assets.keys) > 1:
            name = node.name  # a multi-asset (the warehouse's tables) is one step, named by its op
        labels[str(node)] = f"ingest {name.split('/', 1)[1]}" if name.startswith("raw/") else name
    return labels


def with_progress(job: dg.JobDefinition, callback: Callable[[ProgressEvent], None]) -> dg.JobDefinition:
    """`job` with one more logger, `tokencomp_progress`, that forwards its steps' progress to `callback`."""
    import dagster as dg

    labels = step_labels(job)

    @dg.logger(description="Forwards step starts, ends and reported counts to the tokencomp CLI's display.")
    def tokencomp_progress(_: dg.InitLoggerContext) -> logging.Logger:
        forward = logging.getLogger(f"tokencomp.progress.{id(callback)}")
        forward.handlers = [_Forward(labels, callback)]
        forward.setLevel(logging.DEBUG)  # step events are logged at DEBUG
        forward.propagate = False
        return forward

    return job.with_logger_defs({**job.loggers, "tokencomp_progress": tokencomp_progress})


class _Forward(logging.Handler):
    """Turns Dagster's log records (step events, reported counts) into `ProgressEvent`s."""

    def __init__(self, labels: Mapping[str, str], callback: Callable[[ProgressEvent], None]) -> None:
        super().__init__(logging.DEBUG)
        self.labels = labels
        self.callback = callback

    def emit(self, record: logging.LogRecord) -> None:
        import dagster as dg

        meta = getattr(record, "dagster_meta", None) or {}
        label = self.labels.get(meta.get("step_key") or "")
        if label is None:
            return
        counts = getattr(record, PROGRESS_EXTRA, None)
        event = meta.get("dagster_event")
        if counts is not None:
            self.callback(ProgressEvent(label, "advance", **counts))
        elif event is not None and event.event_type == dg.DagsterEventType.STEP_START:
            self.callback(ProgressEvent(label, "start"))
        elif event is not None and event.event_type == dg.DagsterEventType.STEP_SUCCESS:
            self.callback(ProgressEvent(label, "finish"))
        elif event is not None and event.event_type == dg.DagsterEventType.STEP_FAILURE:
            self.callback(ProgressEvent(label, "fail"))
