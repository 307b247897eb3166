"""The JSONL reader: one JSON document per line; a bad line is rejected with its number and field.

The source's mapping SQL defines three macros over the reader's `jsonl_lines(deliveries, paths)`:
`source_lines(deliveries, paths)` (one row per line: `delivery`, `line`, `counted`, `not_utf8`,
`reject_field`, `reject_reason`, `is_usage` and what the line carries), `source_rows(lines,
deliveries, source, provider, publisher)` (the canonical rows the lines merge into, with lineage and
`delivery_rank`) and `source_checked(lines, rows)` (one record per counted line, see collect.sql).
"""

from __future__ import annotations

from collections.abc import Sequence

from transforms.common import ParseResult, RawFile, UnreadableFile, plain_text_paths
from transforms.sources._readers.base import (
    collect,
    lost_delivery,
    open_connection,
    open_deliveries,
    require_owners,
    spec_params,
)
from transforms.sources._registry import SourceSpec


def read(spec: SourceSpec, files: Sequence[RawFile]) -> ParseResult:
    """Canonical rows from JSONL deliveries; a file that is not UTF-8 text raises `UnreadableFile`.

    A bad line is rejected with its line number and field and the rest of the file loads.
    """
    require_owners(spec, files)
    con = open_connection(spec, "jsonl")
    # every result below is ordered explicitly; not keeping insertion order lets the halves run together
    con.execute("set preserve_insertion_order = false")
    with plain_text_paths(files) as paths:
        open_deliveries(con, files, paths)
        distinct = sorted(set(paths))
        # DuckDB reads files on one thread per scan, so the files are read in two halves whose scans
        # run side by side (`connect()` gives DuckDB two threads).
        con.execute(
            "create temp table lines as from source_lines('deliveries', $first_half)"
            " union all from source_lines('deliveries', $second_half)",
            {"first_half": distinct[0::2], "second_half": distinct[1::2]},
        )
    lost_delivery(con, "lines")
    bad = con.execute(
        "select file from deliveries where delivery in (select delivery from lines where not_utf8)"
        " order by delivery limit 1"
    ).fetchone()
    if bad is not None:
        raise UnreadableFile(bad[0], None, "not UTF-8")
    con.execute(
        "create temp table merged as from source_rows('lines', 'deliveries', $source, $provider, $publisher)",
        spec_params(spec),
    )
    con.execute("create temp table records as from source_checked('lines', 'merged')")
    return collect(con, spec, records="records", rows="merged")
