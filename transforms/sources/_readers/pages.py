"""The API pages reader: one JSON response page per file, `data` = time buckets, each with `results`.

A spec with `records_field=None` reads pages whose `data` items are the records themselves, each with its
own date (`time_fields` end None: the mapping states `period_end`).

The source's mapping SQL defines `source_records(results, source, provider, publisher)`: one row per
result of table `results` (`delivery`, `ordinal`, `period_start`, `period_end`, `r` = the result's
JSON), validated (`problem`) and mapped to its canonical columns. `page_records` then adds what every
page record carries: line, reject, dates, source and provider (see collect.sql).
"""

from __future__ import annotations

from collections.abc import Sequence

from transforms.common import ParseResult, RawFile, UnreadableFile, plain_text_paths
from transforms.sources._readers.base import (
    collect,
    lost_delivery,
    open_connection,
    open_deliveries,
    spec_params,
)
from transforms.sources._registry import SourceSpec


def read(spec: SourceSpec, files: Sequence[RawFile]) -> ParseResult:
    """Canonical rows from API response pages; a page that is not a readable page raises `UnreadableFile`.

    A result with an invalid field is rejected (and counted); a page with a broken structure, or a
    result missing a field of `spec.required`, names the file and the field so ingest can quarantine it.
    """
    if spec.time_fields is None:
        raise ValueError(f"{spec.id}: a pages source needs time_fields (the bucket's start and end)")
    start, end = spec.time_fields
    con = open_connection(spec, "pages")
    with plain_text_paths(files) as paths:
        open_deliveries(con, files, paths)
        con.execute("create temp table pages as from page_texts('deliveries', $paths)", {"paths": sorted(set(paths))})
    lost_delivery(con, "pages")
    con.execute("create temp table documents as from page_documents('pages')")
    con.execute("create temp table buckets as from page_buckets('documents')")
    fields = {"start": start, "end": end, "records": spec.records_field}
    con.execute("create temp table results as from page_results('buckets', $start, $end, $records)", fields)
    problem = con.execute(
        "from page_problems('pages', 'documents', 'buckets', 'results', $start, $end, $records, $required)",
        {**fields, "required": [f"$.{p}" for p in spec.required]},
    ).fetchone()
    if problem is not None:
        name, field_name, reason, line = problem
        raise UnreadableFile(name, field_name, reason, line)
    con.execute(
        "create temp table mapped as from source_records('results', $source, $provider, $publisher)",
        spec_params(spec),
    )
    con.execute(
        "create temp table records as from page_records('mapped', $source, $provider)",
        {"source": spec.id, "provider": spec.provider},
    )
    return collect(con, spec, records="records")
