"""The source registry: one `SourceSpec` per source id, the only list of sources in the project.

Raw assets, parsers, pricing, checks, `tokencomp sources`, config defaults and the tests all read it.
A spec module in this package (any module not starting with `_`) defines `SPEC`; its mapping is the
`.sql` file of the same name beside it. Tests may `register` a spec of their own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from transforms.common import ParseResult, RawFile

Format = Literal["pages", "jsonl", "csv", "parquet"]
Role = Literal["billed", "metered", "billed_metered", "observational"]
# How the owner of a delivery is found: not at all, or the landing folder named after an engineer's email
# (`landing/<source>/<email>/projects/...`).
Owner = Literal["none", "email_folder"]


@dataclass(frozen=True)
class SourceSpec:
    """Everything the project knows about one source, stated once."""

    id: str
    provider: str  # who bills
    publisher: str | None  # who made the models it reports
    publisher_rule: str  # when rows carry `publisher`, as the mapping SQL applies it
    format: Format
    natural_key: tuple[str, ...]  # the mapped columns hashed into `record_id`
    default_role: Role
    per_request: bool  # rows are single requests (long-context tier chosen per row)
    catalog_provider: str | None  # the price catalog's provider id
    owner: Owner
    mapping: Path  # the source's mapping SQL (macros the format's reader calls)
    # pages: the bucket's start and end fields (end None: the bucket is one record, its mapping states the
    # end); every format: fields/columns every record must carry
    time_fields: tuple[str, str | None] | None = None
    required: tuple[str, ...] = ()
    # pages: the field of each `data[]` bucket listing its records; None when the `data[]` items are the
    # records themselves (the Claude Code report: one record per actor and day, no buckets)
    records_field: str | None = "results"
    # the provider API endpoint its puller fetches, "<pipelines.clients module>:<endpoint>"; None: files only
    api: str | None = None

    @property
    def line_oriented(self) -> bool:
        """Bad lines are rejected one by one (JSONL, CSV); other files are whole documents."""
        return self.format in ("jsonl", "csv")

    def mapping_sql(self) -> str:
        """The text of the mapping SQL file."""
        return self.mapping.read_text()


_SPECS: dict[str, SourceSpec] = {}


def register(spec: SourceSpec) -> SourceSpec:
    """Add a source to the registry (spec modules do it on import; tests for sources of their own)."""
    if spec.id in _SPECS and _SPECS[spec.id] != spec:
        raise ValueError(f"source {spec.id!r} is registered twice")
    _SPECS[spec.id] = spec
    return spec


def unregister(source: str) -> None:
    """Remove a source (tests that registered one of their own)."""
    _SPECS.pop(source, None)


def spec(source: str) -> SourceSpec:
    """The spec of a source id; `KeyError` names the unknown id."""
    try:
        return _SPECS[source]
    except KeyError:
        raise KeyError(f"unknown source {source!r}") from None


def specs() -> Iterator[SourceSpec]:
    """Every registered source, in registration order."""
    yield from list(_SPECS.values())


def source_ids() -> tuple[str, ...]:
    """The registered source ids, in registration order."""
    return tuple(_SPECS)


def is_source(source: str) -> bool:
    """Whether a source id is registered."""
    return source in _SPECS


def per_request_sources() -> tuple[str, ...]:
    """Sources whose rows are single requests, tiered per request by the pricer."""
    return tuple(s.id for s in _SPECS.values() if s.per_request)


def catalog_providers() -> dict[str, str]:
    """Our provider ids → the price catalog's provider ids."""
    return {s.provider: s.catalog_provider for s in _SPECS.values() if s.catalog_provider}


def default_roles() -> dict[str, dict[str, str]]:
    """Per provider, the billed and metered source from the specs' default spend roles (config may override)."""
    roles: dict[str, dict[str, str]] = {}
    for s in _SPECS.values():
        wanted = {"billed": ("billed",), "metered": ("metered",), "billed_metered": ("billed", "metered")}
        for role in wanted.get(s.default_role, ()):
            roles.setdefault(s.provider, {}).setdefault(role, s.id)
    return roles


def parser(source: str) -> Callable[[Sequence[RawFile]], ParseResult]:
    """The parse function of a source: its format's shared reader applied to its spec."""
    from transforms.sources._readers import read

    found = spec(source)
    return lambda files: read(found, files)


def parse(source: str, files: Sequence[RawFile]) -> ParseResult:
    """Canonical rows, rejects and per-file stats of one source's deliveries."""
    return parser(source)(files)


def check(source: str, files: Sequence[RawFile]) -> ParseResult:
    """Rejects, per-file stats and each row's billing date and lineage of one source's deliveries: what
    ingest needs to accept them (the lake build parses with `parse`)."""
    from transforms.sources._readers import check as check_files

    return check_files(spec(source), files)
