"""Shared machinery for the source parsers: loading deliveries into DuckDB, structural checks of
API response pages, field validation macros, and the reject / per-file statistics bookkeeping.

Every parser follows the same shape: load all deliveries of one source in one batch, find
structural failures (the file is quarantined), validate each record (a bad record is rejected and
counted, the rest loads), shape canonical columns in SQL, then hash the natural key and keep the
latest delivery. Nothing here loops over rows in Python.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import polars as pl

from transforms.common import (
    ParseResult,
    RawFile,
    UnreadableFile,
    file_index,
    finish,
    keep_latest,
    with_record_id,
)

# Validation helpers shared by every parser. A value under check is known by its kind (a
# `json_type` name, or 'ABSENT' when the path is missing) and its text (`->>`); each
# `*_reason(kind, val, optional)` macro returns NULL when the value is acceptable, else a short
# reason for the reject log. Working on kind and text lets a parser look up every field of a record
# in one parse; the `*_problem(j, p, optional)` forms look the value up themselves.
MACROS_SQL = """
create or replace temp macro absent_reason(kind, optional) as
    case
        when optional then null
        when kind = 'ABSENT' then 'missing'
        else 'null'
    end;

-- A count (tokens of each kind, requests) is an integer from 0 to max_count() = 10^10 per record and
-- field; a larger one is rejected at its line. The maximum keeps every later sum and product inside its
-- type (docs/ingest-limits.md): a record's five token kinds add up far inside BIGINT, and its list cost
-- at the dearest catalog prices (o1-pro, $1,200 per million over the five kinds) is at most $1.2e7,
-- whose square in 10^-12 dollar units (1.44e38) still fits the HUGEINT (1.7e38) that the attribution
-- split of a shared route multiplies in (warehouse/sql/core/spend_computed.sql).
create or replace temp macro max_count() as 10000000000::bigint;

create or replace temp macro int_reason(kind, val, optional) as
    case
        when kind in ('ABSENT', 'NULL') then absent_reason(kind, optional)
        when kind not in ('BIGINT', 'UBIGINT') then 'not an integer'
        when try_cast(val as bigint) is null then 'out of range (over 10000000000)'
        when try_cast(val as bigint) < 0 then 'negative'
        when try_cast(val as bigint) > max_count() then 'out of range (over 10000000000)'
    end;

-- The value of a count that passed `int_reason`; 0 for anything else, so no expression overflows.
create or replace temp macro int_value_of(val) as
    coalesce(if(try_cast(val as bigint) between 0 and max_count(), try_cast(val as bigint), null), 0);

-- A decimal is read through its text at DECIMAL(38,12); a number too large for it is 'out of range'.
create or replace temp macro decimal_reason(kind, val, optional) as
    case
        when kind in ('ABSENT', 'NULL') then absent_reason(kind, optional)
        when kind not in ('VARCHAR', 'BIGINT', 'UBIGINT', 'DOUBLE') then 'not a number'
        when try_cast(val as decimal(38, 12)) is not null then null
        when isfinite(try_cast(val as double)) then 'out of range'
        else 'not a number'
    end;

-- A money amount (billed cents or dollars, in the line's own currency) must be below 10^12 in absolute
-- value. The bound keeps every later stage inside its integer range (docs/money.md): FX conversion to
-- USD at rates of at least 0.01 units per USD stays below 10^14 USD, so the allocation's 1e-12 units
-- fit DECIMAL(38,12) and hugeint, and warehouse sums stay exact past 10^11 lines at the maximum.
create or replace temp macro money_reason(kind, val, optional) as
    coalesce(
        decimal_reason(kind, val, optional),
        case
            when abs(try_cast(val as decimal(38, 12))) >= 1000000000000 then 'out of range (money is below 10^12)'
        end
    );

create or replace temp macro string_reason(kind, val, optional) as
    case
        when kind in ('ABSENT', 'NULL') then absent_reason(kind, optional)
        when kind <> 'VARCHAR' then 'not a string'
        when val = '' then 'empty'
    end;

-- A timestamp is an RFC 3339 / ISO-8601 string or Unix seconds, from 1970-01-01 up to (excluding)
-- 2100-01-01 UTC; NULL when neither parses or it is out of that range. A year like 99999, or Unix
-- milliseconds read as seconds (year ~57000), would otherwise break every later stage.
create or replace temp macro timestamp_parsed(kind, val) as
    case
        when kind in ('BIGINT', 'UBIGINT') then try(to_timestamp(try_cast(val as bigint)))
        when kind = 'VARCHAR' then try_cast(val as timestamptz)
    end;

create or replace temp macro timestamp_in_range(ts) as
    ts >= timestamptz '1970-01-01 00:00:00+00' and ts < timestamptz '2100-01-01 00:00:00+00';

create or replace temp macro timestamp_value_of(kind, val) as
    if(timestamp_in_range(timestamp_parsed(kind, val)), timestamp_parsed(kind, val), null);

create or replace temp macro timestamp_reason(kind, val, optional) as
    case
        when kind in ('ABSENT', 'NULL') then absent_reason(kind, optional)
        when timestamp_parsed(kind, val) is null then 'not a timestamp'
        when not timestamp_in_range(timestamp_parsed(kind, val)) and kind in ('BIGINT', 'UBIGINT')
            then 'out of range (1970 to 2099; Unix time in seconds, not milliseconds)'
        when not timestamp_in_range(timestamp_parsed(kind, val)) then 'out of range (1970 to 2099)'
    end;

-- The same on a JSON value `j` and a JSON path `p`: each use looks the value up again.
create or replace temp macro json_kind(j, p) as coalesce(json_type(j, p), 'ABSENT');
create or replace temp macro absent_problem(j, p, optional) as absent_reason(json_kind(j, p), optional);
create or replace temp macro int_problem(j, p, optional) as int_reason(json_kind(j, p), j ->> p, optional);
create or replace temp macro int_value(j, p) as int_value_of(j ->> p);
create or replace temp macro decimal_problem(j, p, optional) as decimal_reason(json_kind(j, p), j ->> p, optional);
create or replace temp macro decimal_value(j, p) as try_cast(j ->> p as decimal(38, 12));
create or replace temp macro money_problem(j, p, optional) as money_reason(json_kind(j, p), j ->> p, optional);
create or replace temp macro string_problem(j, p, optional) as string_reason(json_kind(j, p), j ->> p, optional);
create or replace temp macro timestamp_value(j, p) as timestamp_value_of(json_kind(j, p), j ->> p);
create or replace temp macro timestamp_problem(j, p, optional) as
    timestamp_reason(json_kind(j, p), j ->> p, optional);

-- `*_check(j, field, optional)`: {field, reason} for a field path relative to `j`; `first_problem`
-- picks the first failing check of a list (NULL when the record is valid).
create or replace temp macro int_check(j, f, optional) as
    {'field': f, 'reason': int_problem(j, '$.' || f, optional)};
create or replace temp macro decimal_check(j, f, optional) as
    {'field': f, 'reason': decimal_problem(j, '$.' || f, optional)};
create or replace temp macro money_check(j, f, optional) as
    {'field': f, 'reason': money_problem(j, '$.' || f, optional)};
create or replace temp macro string_check(j, f, optional) as
    {'field': f, 'reason': string_problem(j, '$.' || f, optional)};
create or replace temp macro timestamp_check(j, f, optional) as
    {'field': f, 'reason': timestamp_problem(j, '$.' || f, optional)};
create or replace temp macro first_problem(checks) as
    list_filter(checks, lambda x: x.reason is not null)[1];
"""

# Every delivery's bytes, decoded as UTF-8 (NULL when the bytes are not UTF-8), BOM stripped.
# Each distinct path is read once; a path delivered twice fans out to both deliveries.
LOAD_SQL = """
create or replace temp table pages as
select
    d.delivery, d.raw_sha256, d.seq, d.ingested_at, d.file, d.owner,
    ltrim(try(decode(b.content)), chr(65279)) as text
from deliveries as d
join read_blob($paths) as b on b.filename = d.filename
"""

# API response pages: one JSON object, `data` = list of time buckets, each with `results`.
DOCUMENTS_SQL = """
create or replace temp table documents as
select
    delivery,
    text is null as not_utf8,
    case when json_valid(text) then text end::json as doc
from pages
"""

BUCKETS_SQL = """
create or replace temp table buckets as
with listed as (
    select delivery, json_extract(doc, '$.data[*]') as bucket_list
    from documents
    where json_type(doc, '$.data') = 'ARRAY'
)
select
    delivery,
    unnest(bucket_list) as bucket,
    generate_subscripts(bucket_list, 1) as bucket_no
from listed
"""

RESULTS_SQL = """
create or replace temp table results as
with listed as (
    select
        delivery,
        bucket_no,
        timestamp_value(bucket, '$.' || $start) as period_start,
        timestamp_value(bucket, '$.' || $end) as period_end,
        json_extract(bucket, '$.results[*]') as result_list
    from buckets
    where json_type(bucket) = 'OBJECT'
      and timestamp_value(bucket, '$.' || $start) is not null
      and json_type(bucket, '$.results') = 'ARRAY'
),
exploded as (
    select
        delivery, bucket_no, period_start, period_end,
        unnest(result_list) as r,
        generate_subscripts(result_list, 1) as result_no
    from listed
)
select
    delivery, period_start, period_end, r,
    row_number() over (partition by delivery order by bucket_no, result_no) as ordinal
from exploded
"""

# The first structural failure of the batch (lowest delivery first), if any.
STRUCTURE_PROBLEMS_SQL = """
with problems as (
    select delivery, 1 as stage, 0 as pos, null::varchar as field, 'not UTF-8' as reason, null::bigint as line
    from documents where not_utf8
    union all
    select delivery, 2, 0, null, 'not JSON', null from documents where not not_utf8 and doc is null
    union all
    select delivery, 3, 0, null, 'not a JSON object', null
    from documents where doc is not null and json_type(doc) <> 'OBJECT'
    union all
    select delivery, 4, 0, 'data',
        case when json_type(doc, '$.data') is null then 'missing' else 'not a list' end, null
    from documents
    where json_type(doc) = 'OBJECT' and coalesce(json_type(doc, '$.data'), '') <> 'ARRAY'
    union all
    select delivery, 5, bucket_no, 'data[' || (bucket_no - 1) || ']', 'not an object', null
    from buckets where json_type(bucket) <> 'OBJECT'
    union all
    select delivery, 6, bucket_no, 'data[' || (bucket_no - 1) || '].' || $start,
        timestamp_problem(bucket, '$.' || $start, false), null
    from buckets
    where json_type(bucket) = 'OBJECT' and timestamp_problem(bucket, '$.' || $start, false) is not null
    union all
    select delivery, 7, bucket_no, 'data[' || (bucket_no - 1) || '].' || $end,
        timestamp_problem(bucket, '$.' || $end, true), null
    from buckets
    where json_type(bucket) = 'OBJECT' and timestamp_problem(bucket, '$.' || $end, true) is not null
    union all
    select delivery, 8, bucket_no, 'data[' || (bucket_no - 1) || '].results',
        case when json_type(bucket, '$.results') is null then 'missing' else 'not a list' end, null
    from buckets
    where json_type(bucket) = 'OBJECT' and coalesce(json_type(bucket, '$.results'), '') <> 'ARRAY'
    union all
    select delivery, 9, ordinal, null, 'result is not an object', ordinal
    from results where json_type(r) <> 'OBJECT'
    union all
    select delivery, 10, ordinal, substr(p, 3), 'missing', ordinal
    from results, unnest($required::varchar[]) as t(p)
    where json_type(r) = 'OBJECT' and json_type(r, p) is null
)
select d.file, p.field, p.reason, p.line
from problems as p join pages as d using (delivery)
order by p.delivery, p.stage, p.pos, p.field
limit 1
"""

# One reject row per rejected record of table `checked` (lineage from `deliveries`).
REJECTS_SQL = """
select d.raw_sha256, d.file, c.line, c.reject_field as field, c.reject_reason as reason
from checked as c join deliveries as d using (delivery)
where c.reject_reason is not null
order by c.delivery, c.line
"""

# One row per delivery: parsed = loaded + rejected, and the billing dates its loaded records cover.
STATS_SQL = """
select
    d.raw_sha256,
    count(c.line) as parsed,
    count(c.line) - count(c.reject_reason) as loaded,
    count(c.reject_reason) as rejected,
    min(c.stat_date) as min_date,
    max(c.stat_date) as max_date
from deliveries as d
left join checked as c using (delivery)
group by d.delivery, d.raw_sha256
order by d.delivery
"""

# Canonical rows of `checked` that were not rejected, with a unique, deterministic order for
# `keep_latest`: later manifest seq wins, then later delivery in the batch, then later record.
LOADED_SQL = """
select
    c.* exclude (delivery, line, reject_field, reject_reason, stat_date),
    d.raw_sha256,
    d.ingested_at,
    row_number() over (order by d.seq, c.delivery, c.line) as delivery_rank
from checked as c join deliveries as d using (delivery)
where c.reject_reason is null
"""


def open_deliveries(con: duckdb.DuckDBPyConnection, files: Sequence[RawFile], paths: Sequence[str]) -> None:
    """Define the validation macros and table `deliveries`: one row per delivery, its `delivery`
    number, the `filename` to read, its lineage and owner. Reads no file.
    """
    con.execute(MACROS_SQL)
    deliveries = file_index(files, paths).with_row_index("delivery").cast({"delivery": pl.Int64})
    con.register("deliveries_frame", deliveries)
    con.execute("create or replace temp table deliveries as select * from deliveries_frame")
    con.unregister("deliveries_frame")


def open_batch(con: duckdb.DuckDBPyConnection, files: Sequence[RawFile], paths: Sequence[str]) -> None:
    """Load every delivery of a batch into table `pages` (one row per delivery, decoded text).

    Must run while `plain_text_paths` is open; afterwards the bytes live in DuckDB.
    """
    open_deliveries(con, files, paths)
    con.execute(LOAD_SQL, {"paths": sorted(set(paths))})
    lost = con.execute(
        "select filename from deliveries anti join pages using (delivery) order by delivery limit 1"
    ).fetchone()
    if lost is not None:  # read_blob names files as given; anything else is a bug, not bad data
        raise FileNotFoundError(lost[0])


def open_pages(
    con: duckdb.DuckDBPyConnection,
    files: Sequence[RawFile],
    paths: Sequence[str],
    *,
    start: str,
    end: str,
    required: Sequence[str],
) -> None:
    """Load API response pages and explode them into table `results` (one row per result).

    `start` / `end` name the bucket's time fields; `required` lists JSON paths every result must
    carry. A page that is not a readable page of the API raises `UnreadableFile` naming the file
    and the field, so the caller can quarantine it.
    """
    open_batch(con, files, paths)
    con.execute(DOCUMENTS_SQL)
    con.execute(BUCKETS_SQL)
    con.execute(RESULTS_SQL, {"start": start, "end": end})
    problem = con.execute(
        STRUCTURE_PROBLEMS_SQL,
        {"start": start, "end": end, "required": [f"$.{p}" for p in required]},
    ).fetchone()
    if problem is not None:
        name, field_name, reason, line = problem
        raise UnreadableFile(name, field_name, reason, line)


def collect(con: duckdb.DuckDBPyConnection, key_columns: Sequence[str], *, rows_sql: str = LOADED_SQL) -> ParseResult:
    """Turn table `checked` (one row per parsed record) into the parser's result.

    `checked` holds `delivery`, `line`, `reject_field`, `reject_reason`, `stat_date` (the billing
    date the record lands on, for the file's date range) and the canonical columns, plus the raw
    natural-key columns named in `key_columns`. `rows_sql` selects the loaded rows with lineage
    and a unique `delivery_rank`; each gets `record_id` from its natural key, and one row per key
    survives: the latest delivery in manifest order (DESIGN: a corrected re-pull replaces).
    """
    rows = con.sql(rows_sql).pl()
    # only the key columns travel to the hash, numbered to put the ids back on their rows
    keys = rows.select("source", *key_columns).with_row_index("_row").with_columns(record_id=pl.lit(None, pl.String))
    ids = with_record_id(keys, key_columns).sort("_row")["record_id"]
    rows = keep_latest(rows.with_columns(record_id=ids), order="delivery_rank")
    rejects = con.sql(REJECTS_SQL).pl()
    stats = con.sql(STATS_SQL).pl()
    return finish(rows, rejects, stats)
