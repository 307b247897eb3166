"""The warehouse's models and their build order, read from the SQL files themselves.

Every `core/*.sql` and `mart/*.sql` file (a leading `_` marks a helper, not a model) creates one table or view.
What a model depends on is what its SQL reads: `core.x` / `mart.x` tables, the temporary tables other models
create (`spend_computed`), and the `src_*` views a build registers from the lake and reference data. DuckDB's
own tokenizer reads the files, so names inside comments and string literals (the COMMENTs) never count. The
build order is a topological sort of that graph: a new model is a new file, never a list edit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from graphlib import CycleError, TopologicalSorter
from importlib.resources import files
from importlib.resources.abc import Traversable

import duckdb

SCHEMAS: tuple[str, ...] = ("core", "mart")
SOURCE_PREFIX = "src_"


class ModelGraphError(ValueError):
    """The models cannot be ordered: a file reads a table no model creates, creates none, or models form a cycle."""


@dataclass(frozen=True)
class Model:
    """One SQL model: `name` (its file, e.g. `core/fct_spend`), the table or view it creates, what it reads."""

    name: str
    creates: str
    depends_on: tuple[str, ...]
    sources: tuple[str, ...]

    @property
    def published(self) -> bool:
        """True when the model's table is in the published file (`core.x` / `mart.x`, not a temporary one)."""
        return self.creates.split(".", 1)[0] in SCHEMAS and "." in self.creates


@dataclass(frozen=True)
class _Parsed:
    name: str
    creates: str
    qualified: frozenset[str]
    unqualified: frozenset[str]


def _tokens(text: str) -> list[tuple[str, str]]:
    """(text, kind) of each token DuckDB's tokenizer finds, comments and string literals dropped."""
    spans = duckdb.tokenize(text)
    out = []
    for i, (start, kind) in enumerate(spans):
        end = spans[i + 1][0] if i + 1 < len(spans) else len(text)
        if kind in (duckdb.token_type.comment, duckdb.token_type.string_const):
            continue
        out.append((text[start:end].strip().strip('"').lower(), kind.name))
    return out


def _parse(name: str, text: str) -> _Parsed:
    tokens = _tokens(text)
    words = [t for t, _ in tokens]
    created: list[str] = []
    qualified: set[str] = set()
    unqualified: set[str] = set()
    for i, (word, kind) in enumerate(tokens):
        if kind == "keyword" and word in ("table", "view") and "create" in words[max(0, i - 4) : i]:
            target = words[i + 1]
            if i + 3 < len(words) and words[i + 2] == ".":
                target = f"{target}.{words[i + 3]}"
            created.append(target)
        if kind != "identifier" or (i > 0 and words[i - 1] == "."):
            continue
        if word in SCHEMAS and i + 2 < len(words) and words[i + 1] == ".":
            qualified.add(f"{word}.{words[i + 2]}")
        else:
            unqualified.add(word)
    if len(created) != 1:
        raise ModelGraphError(f"warehouse/sql/{name}.sql: a model creates exactly one table, this one {len(created)}")
    return _Parsed(name, created[0], frozenset(qualified - set(created)), frozenset(unqualified - set(created)))


def _order(parsed: Sequence[_Parsed]) -> tuple[Model, ...]:
    creators = {p.creates: p.name for p in parsed}
    models: dict[str, Model] = {}
    for p in parsed:
        unknown = sorted(t for t in p.qualified if t not in creators)
        if unknown:
            raise ModelGraphError(
                f"warehouse/sql/{p.name}.sql reads {', '.join(unknown)}, which no model creates "
                f"(a model is warehouse/sql/<schema>/<table>.sql)"
            )
        deps = {creators[t] for t in p.qualified} | {creators[t] for t in p.unqualified if t in creators}
        sources = sorted(t for t in p.unqualified if t.startswith(SOURCE_PREFIX) and t not in creators)
        models[p.name] = Model(p.name, p.creates, tuple(sorted(deps)), tuple(sources))
    sorter = TopologicalSorter({name: m.depends_on for name, m in models.items()})
    try:
        sorter.prepare()
    except CycleError as exc:
        cycle = exc.args[1]
        raise ModelGraphError(
            f"warehouse/sql/{cycle[0]}.sql: models read each other in a cycle: {' -> '.join(cycle)}"
        ) from exc
    order: list[Model] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())  # stable: alphabetical among the models that may run next
        order += [models[name] for name in ready]
        sorter.done(*ready)
    return tuple(order)


def model_graph(root: Traversable | None = None) -> tuple[Model, ...]:
    """Every model under `root` (default: the packaged warehouse/sql), in an order that builds each one after
    everything it reads. Raises ModelGraphError naming the file that cannot be placed."""
    if root is None:
        return _packaged_graph()
    return _order(list(_read(root)))


@cache
def _packaged_graph() -> tuple[Model, ...]:
    return _order(list(_read(files("warehouse").joinpath("sql"))))


def _read(root: Traversable) -> Iterable[_Parsed]:
    for schema in SCHEMAS:
        folder = root.joinpath(schema)
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".sql") and not entry.name.startswith("_"):
                yield _parse(f"{schema}/{entry.name.removesuffix('.sql')}", entry.read_text())


def published_models() -> dict[str, Model]:
    """The models whose table is published (`core.x` / `mart.x`), by table, in build order."""
    return {m.creates: m for m in model_graph() if m.published}


def upstream_tables(model: Model, graph: Iterable[Model]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The published tables `model` reads and the `src_*` views it reads, looking through temporary tables
    (core.fct_spend reads core.fct_usage_daily through the temporary spend_computed)."""
    by_name = {m.name: m for m in graph}
    tables: set[str] = set()
    sources: set[str] = set(model.sources)
    pending = list(model.depends_on)
    seen: set[str] = set()
    while pending:
        upstream = by_name[pending.pop()]
        if upstream.name in seen:
            continue
        seen.add(upstream.name)
        if upstream.published:
            tables.add(upstream.creates)
        else:
            sources.update(upstream.sources)
            pending += upstream.depends_on
    return tuple(sorted(tables)), tuple(sorted(sources))
