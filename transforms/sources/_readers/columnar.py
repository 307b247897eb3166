"""The CSV and Parquet readers: one record per data row, columns by name.

The source's mapping SQL defines `source_records(rows, source, provider, publisher)`: one record per
row of table `rows` (`delivery`, `line` and the file's own columns; CSV columns are text, checked with
`text_kind` and the shared `*_reason` macros), validated and mapped (see collect.sql). A file missing a
column of `spec.required`, or that the format's scanner cannot read, raises `UnreadableFile`.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from transforms.common import ParseResult, RawFile, UnreadableFile, plain_text_paths
from transforms.sources._readers.base import collect, open_connection, open_deliveries, spec_params
from transforms.sources._registry import SourceSpec


def read(spec: SourceSpec, files: Sequence[RawFile]) -> ParseResult:
    """Canonical rows from CSV or Parquet deliveries (the spec's format); bad rows rejected one by one."""
    fmt = spec.format
    con = open_connection(spec, fmt)
    with plain_text_paths(files) as paths:
        open_deliveries(con, files, paths)
        for f, path in zip(files, paths, strict=True):  # per file, not per row: the structural check
            try:
                columns = {r[0] for r in con.execute(f"from {fmt}_columns($path)", {"path": path}).fetchall()}
            except duckdb.Error as exc:
                raise UnreadableFile(f.name, None, f"not a readable {fmt} file ({str(exc).splitlines()[0]})") from exc
            missing = [c for c in spec.required if c not in columns]
            if missing:
                raise UnreadableFile(f.name, missing[0], "missing column")
        try:
            con.execute(
                f"create temp table rows as from {fmt}_rows('deliveries', $paths)", {"paths": sorted(set(paths))}
            )
        except duckdb.Error as exc:
            raise UnreadableFile(
                files[0].name, None, f"not a readable {fmt} file ({str(exc).splitlines()[0]})"
            ) from exc
    con.execute(
        "create temp table records as from source_records('rows', $source, $provider, $publisher)", spec_params(spec)
    )
    return collect(con, spec, records="records")
