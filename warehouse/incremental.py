"""Incremental warehouse builds: what a published warehouse was built from, and what a nightly build may reuse.

A build records its `BuildState` (a fingerprint of each lake day partition, of each reference frame, of the
closed months' books, of the SQL parameters and of the warehouse code) beside the published file. The next
build compares: when only some lake days changed, it starts from a copy of the published file and recomputes
only those days' rows of the day-grain tables and the affected months' rows of the month-grain ones; a table
that reads nothing from the lake is kept as it was, every other table is rebuilt whole from the (updated)
tables it reads. Anything else (reference data, parameters, code, closed months, a rebuilt lake, no usable
previous build) means a full build.

A model declares its grain in a one-line header of its SQL file (`-- grain: day billing_date`); a model with
none is rebuilt whole. `-- grain: day <column> where <predicate>` limits the rows the grain covers (core.fct_spend:
the closed months' frozen books and their corrections are not per lake day). Clauses follow, each after `; `:

- `unchanged <table>(<columns>)` names the columns of a whole, lake-derived table the rows depend on: when those
  changed for existing keys, the model is recomputed whole (a whole lake-derived table with no such clause is
  compared on every column).
- `trailing <n> days` (month grain): a month's rows also read the n days ending at its last day (a run rate's
  window), so a changed day is recomputed in every month whose window holds it.
- `edges <table>(<column>)` (month grain): the rows read that table only for the column's first and last value
  (the data window): the table is read whole, and when either edge moves, every month from its old to its new
  place (and the months whose trailing window reaches those days) is recomputed.

A month-grain model also recomputes every month a month-grain table it reads recomputed (`Grain.months`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

import duckdb
import polars as pl

STATE_VERSION = 1
_GRAIN = re.compile(r"^-- grain: (?P<kind>day|month) (?P<column>.+?)(?: where (?P<where>.+?))?$")
_CLAUSE = re.compile(
    r"^(?:unchanged (?P<table>[a-z_.]+)\((?P<columns>[^)]*)\)"
    r"|trailing (?P<trailing>[1-9][0-9]*) days"
    r"|edges (?P<edges>[a-z_.]+)\((?P<edge_column>[a-z_]+)\))$"
)
# usage_date is billing_date in the reporting time zone: within this many days of it, either way
ZONE_DAYS = 2


@dataclass(frozen=True)
class Grain:
    """How a model's rows follow the lake: per `kind` (day or month) of `column`, for the rows `where` covers."""

    kind: str
    column: str
    where: str = "true"
    unchanged: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # month grain: the days before a month's last day its rows also read (`trailing 90 days`: 89)
    reach: int = 0
    # month grain: the (table, column) whose first and last value the rows read, and nothing else of the table
    edges: tuple[str, str] | None = None

    def months(
        self,
        days: Sequence[date],
        upstream: Iterable[Sequence[date]] = (),
        moved: Sequence[tuple[date, date]] = (),
    ) -> tuple[date, ...]:
        """The months of a month-grain model whose rows may change: those whose days (and trailing window,
        in usage days, within ZONE_DAYS of the billing `days` that changed) hold a changed day, every month a
        month-grain table it reads recomputed (`upstream`), and those whose window holds part of a `moved`
        edge's range of days (from its old to its new place)."""
        spans = [(d - timedelta(days=ZONE_DAYS), d + timedelta(days=ZONE_DAYS)) for d in days]
        spans += [(m, _month_end(m)) for months in upstream for m in months]
        spans += list(moved)
        out: set[date] = set()
        for first, last in spans:
            month, to = first.replace(day=1), (last + timedelta(days=self.reach)).replace(day=1)
            while month <= to:
                out.add(month)
                month = _next_month(month)
        return tuple(sorted(out))


def _next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def _month_end(month: date) -> date:
    return _next_month(month) - timedelta(days=1)


def grain(text: str) -> Grain | None:
    """The grain a model's SQL declares on its first `-- grain:` line, or None (rebuilt whole)."""
    for line in text.splitlines():
        if line.startswith("-- grain:"):
            head, *clauses = line.rstrip().split("; ")
            found = _GRAIN.match(head)
            if found is None:
                raise ValueError(f"unreadable grain header: {line!r}")
            unchanged: dict[str, tuple[str, ...]] = {}
            reach, edges = 0, None
            for clause in clauses:
                part = _CLAUSE.match(clause)
                if part is None:
                    raise ValueError(f"unreadable grain header clause {clause!r}: {line!r}")
                if part["table"]:
                    unchanged[part["table"]] = tuple(c.strip() for c in part["columns"].split(","))
                elif part["trailing"]:
                    reach = int(part["trailing"]) - 1
                else:
                    edges = (part["edges"], part["edge_column"])
            if found["kind"] == "day" and (reach or edges):
                raise ValueError(f"trailing and edges are month-grain clauses: {line!r}")
            return Grain(found["kind"], found["column"].strip(), found["where"] or "true", unchanged, reach, edges)
    return None


@dataclass(frozen=True)
class BuildState:
    """What a warehouse build was made from (fingerprints only, never data), and the published file it made."""

    code: str
    params: str
    references: Mapping[str, str]
    closed: Mapping[str, str]
    partitions: Mapping[str, str]
    published: Mapping[str, int] = field(default_factory=dict)
    # the analyst file published with it: its key's fingerprint and the file's identity (empty: none)
    analyst: Mapping[str, object] = field(default_factory=dict)
    version: int = STATE_VERSION

    def to_json(self) -> str:
        """The state as the sidecar file stores it."""
        return json.dumps(asdict(self), sort_keys=True, indent=1)

    @classmethod
    def from_json(cls, text: str) -> BuildState:
        """A stored state (raises ValueError/KeyError/TypeError when it is not one)."""
        raw = json.loads(text)
        return cls(**raw)


@dataclass(frozen=True)
class Plan:
    """How to build: from scratch (`previous` None), or from the copy of `previous` recomputing `days`."""

    reason: str
    previous: Path | None = None
    days: tuple[date, ...] = ()

    @property
    def incremental(self) -> bool:
        """True when the build starts from the previous published file."""
        return self.previous is not None

    @property
    def months(self) -> tuple[date, ...]:
        """The months of the changed days, widened by the reporting time zone (a billing day's usage may fall on
        the day before or after): those a month-grain model that reads only day-grain tables recomputes."""
        return Grain("month", "month").months(self.days)


FULL = Plan("full build asked for")
# what else a build reads, in the order a full build's reason names a change (closing a month changes params too)
_INPUTS = (
    ("code", "the warehouse code"),
    ("closed", "the closed months' books"),
    ("references", "the reference data"),
    ("params", "the parameters"),
)


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()


def _stat(path: Path) -> str:
    st = path.stat()
    return f"{st.st_size}:{st.st_mtime_ns}"


def _tree(root: Traversable, prefix: str = "") -> list[tuple[str, bytes]]:
    out: list[tuple[str, bytes]] = []
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        name = f"{prefix}{entry.name}"
        if entry.is_dir():
            if entry.name != "__pycache__":
                out += _tree(entry, name + "/")
        elif entry.name.endswith((".sql", ".py", ".csv")):
            out.append((name, entry.read_bytes()))
    return out


def code_version() -> str:
    """A fingerprint of everything a build runs: the warehouse package (SQL, Python, rules), the lake's money
    macros, DuckDB's version."""
    parts = [n.encode() + b"\0" + b for n, b in _tree(files("warehouse"))]
    parts.append(files("transforms").joinpath("sql/money_macros.sql").read_bytes())
    parts.append(f"duckdb {duckdb.__version__} state {STATE_VERSION}".encode())
    return _digest(*parts)


def covers(g: Grain) -> str:
    """The rows of a model's grain an incremental build recomputes (column and predicate from its header), over
    the `delta.main.changed_days` table of incremental/changed.sql (day grain) or the model's own months in
    `delta.main.model_months` of incremental/model_months.sql (month grain)."""
    keys = "select day from delta.main.changed_days" if g.kind == "day" else "select month from delta.main.model_months"
    return f"({g.column}) in ({keys}) and ({g.where})"


def analyst_reusable(previous: BuildState | None, analyst: Path, analyst_key: str) -> bool:
    """True when the published `analyst` file is the one recorded with `previous`, under the same key."""
    if previous is None or previous.analyst.get("key") != analyst_key:
        return False
    try:
        return dict(previous.analyst.get("published", {})) == published_identity(analyst)  # type: ignore[call-overload]
    except OSError:
        return False


def partition_day(path: Path) -> date:
    """The billing day of a lake partition file (`billing_date=YYYY-MM-DD/part-0.parquet`)."""
    return date.fromisoformat(path.parent.name.split("=", 1)[1])


def current_state(
    lake_files: Sequence[Path],
    references: Mapping[str, pl.DataFrame],
    params: Mapping[str, object],
    closed_spend_files: Sequence[Path],
) -> BuildState:
    """The fingerprints of a build's inputs: each lake day's file (size and mtime: partitions are replaced
    whole), each reference frame's content, the closed books' files, the parameters and the code."""
    shown = dict(params)
    if not shown.get("closed_months"):
        shown["open_month"] = None  # corrections go to the open month only when a month is closed
    return BuildState(
        code=code_version(),
        params=_digest(json.dumps(shown, sort_keys=True, default=str).encode()),
        references={
            k: _digest(f.write_ipc(None, compression="uncompressed").getvalue()) for k, f in references.items()
        },
        closed={p.parent.name: _stat(p) for p in closed_spend_files},
        partitions={partition_day(p).isoformat(): _stat(p) for p in lake_files},
    )


def published_identity(path: Path) -> dict[str, int]:
    """What identifies the published file a state describes: writing it changes these, a copy that keeps times
    (a restored backup of the data folder) does not."""
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def state_path(target: Path) -> Path:
    """Where the state of the published warehouse `target` is kept: a dot file beside it, never read by analysts."""
    return target.with_name(f".{target.name}.built.json")


def read_state(target: Path) -> BuildState | None:
    """The state recorded for the published `target`, or None when there is none or it describes another file."""
    try:
        state = BuildState.from_json(state_path(target).read_text())
        if state.version != STATE_VERSION or dict(state.published) != published_identity(target):
            return None
        return state
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_state(target: Path, state: BuildState, analyst: Path | None = None, analyst_key: str = "") -> None:
    """Record `state` for the file just published at `target` (atomically), and the `analyst` file published
    beside it under the key whose fingerprint is `analyst_key`."""
    shown = {"key": analyst_key, "published": published_identity(analyst)} if analyst is not None else {}
    recorded = BuildState(**{**asdict(state), "published": published_identity(target), "analyst": shown})
    scratch = state_path(target).with_suffix(".tmp")
    scratch.write_text(recorded.to_json())
    os.replace(scratch, state_path(target))


def forget_state(target: Path) -> None:
    """Drop the recorded state before `target` is replaced (a crash then leaves no state, so a full build)."""
    state_path(target).unlink(missing_ok=True)


def plan(previous: BuildState | None, current: BuildState, target: Path, closed_months: Sequence[date]) -> Plan:
    """Incremental from the published `target` when only lake days changed since `previous`, else full (why)."""
    if previous is None:
        return Plan("full build: no previous build recorded for the published file")
    for what, shown in _INPUTS:
        if getattr(previous, what) != getattr(current, what):
            return Plan(f"full build: {shown} changed")
    old, new = previous.partitions, current.partitions
    days = tuple(sorted(date.fromisoformat(d) for d in set(old) | set(new) if old.get(d) != new.get(d)))
    closed = {m.replace(day=1) for m in closed_months}
    touched = sorted({d.replace(day=1) for d in days} & closed)
    if touched:
        return Plan(f"full build: lake days of closed month {touched[0]:%Y-%m} changed")
    if old and all(old[d] != new.get(d) for d in old):
        return Plan("full build: every lake day changed (a rebuilt lake)")
    return Plan(f"incremental: {len(days)} changed lake day(s)", previous=target, days=days)
