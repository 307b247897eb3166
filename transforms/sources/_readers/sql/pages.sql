-- The API pages reader: one JSON object per file, `data` = list of time buckets, each with `results`
-- (`records_field`), or `data` = the records themselves, each with its own date (`records_field` NULL).
-- Every macro takes the tables it reads by name; the reader names the tables it creates.

-- Every delivery's bytes, decoded as UTF-8 (NULL when the bytes are not UTF-8), BOM stripped.
-- Each distinct path is read once; a path delivered twice fans out to both deliveries.
create or replace temp macro page_texts(deliveries, paths) as table
select
    d.delivery, d.raw_sha256, d.seq, d.ingested_at, d.file, d.owner,
    ltrim(try(decode(b.content)), chr(65279)) as text
from query_table(deliveries) as d
join read_blob(paths) as b on b.filename = d.filename;

-- The page's text with every bare JSON number turned into a string of its own text. DuckDB's JSON reader
-- holds a number as a DOUBLE, so `8589934592.000001` would come back as `8589934592.000002`; a money field
-- is read from this twin instead, through its exact decimal text (DESIGN "Money rules"). A string is matched
-- whole first, so digits inside one are left alone. chr(1) and chr(2) mark a number's ends: neither may
-- appear raw in valid JSON, and a string's match leaves them adjacent, which is removed first.
create or replace temp macro numbers_as_text(text) as
replace(replace(replace(
    regexp_replace(
        text,
        '("(?:[^"\\]|\\.)*")|(-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)',
        '\1' || chr(1) || '\2' || chr(2),
        'g'
    ),
    chr(1) || chr(2), ''), chr(1), '"'), chr(2), '"');

-- `doc` is the page as JSON (types as the page states them); `exact` its twin with numbers as their text.
create or replace temp macro page_documents(pages) as table
select
    delivery,
    text is null as not_utf8,
    case when json_valid(text) then text end::json as doc,
    case when json_valid(text) then numbers_as_text(text) end::json as exact
from query_table(pages);

-- Each bucket with its exact twin (`exact_bucket`): the two lists have the same shape, unnested in step.
create or replace temp macro page_buckets(documents) as table
with listed as (
    select delivery, json_extract(doc, '$.data[*]') as bucket_list, json_extract(exact, '$.data[*]') as exact_list
    from query_table(documents)
    where json_type(doc, '$.data') = 'ARRAY'
)
select
    delivery,
    unnest(bucket_list) as bucket,
    unnest(exact_list) as exact_bucket,
    generate_subscripts(bucket_list, 1) as bucket_no
from listed;

-- One row per result `r`, numbered through the page (`ordinal`), with its bucket's period (no end field:
-- NULL, the mapping states it). With `records_field` NULL each bucket is itself the one record. `x` is the
-- result's exact twin: the same JSON with every number as a string of its text (read money from it).
create or replace temp macro page_results(buckets, start_field, end_field, records_field) as table
with listed as (
    select
        delivery,
        bucket_no,
        timestamp_value(bucket, '$.' || start_field) as period_start,
        case when end_field is not null then timestamp_value(bucket, '$.' || coalesce(end_field, start_field)) end
            as period_end,
        -- (a JSON path must bind even where unused, hence the coalesce)
        if(records_field is null, [bucket], json_extract(bucket, '$.' || coalesce(records_field, 'results') || '[*]'))
            as result_list,
        if(
            records_field is null,
            [exact_bucket],
            json_extract(exact_bucket, '$.' || coalesce(records_field, 'results') || '[*]')
        ) as exact_list
    from query_table(buckets)
    where json_type(bucket) = 'OBJECT'
      and timestamp_value(bucket, '$.' || start_field) is not null
      and (records_field is null or json_type(bucket, '$.' || records_field) = 'ARRAY')
),
exploded as (
    select
        delivery, bucket_no, period_start, period_end,
        unnest(result_list) as r,
        unnest(exact_list) as x,
        generate_subscripts(result_list, 1) as result_no
    from listed
)
select
    delivery, period_start, period_end, r, x,
    row_number() over (partition by delivery order by bucket_no, result_no) as ordinal
from exploded;

-- A source's mapped results (`source_records`: delivery, ordinal, period_start, period_end, problem and the
-- mapped columns) as records: every page source's line, reject and date columns are derived here, once.
create or replace temp macro page_records(mapped, source, provider) as table
select
    delivery,
    ordinal as line,
    problem.field as reject_field,
    problem.reason as reject_reason,
    case when problem is null then cast(period_start as date) end as stat_date,
    cast(period_start as date) as billing_date,
    period_start,
    period_end,
    source as source,
    provider as provider,
    * exclude (delivery, ordinal, problem, period_start, period_end)
from query_table(mapped);

-- The first structural failure of the batch (lowest delivery first), if any.
create or replace temp macro page_problems(
    pages, documents, buckets, results, start_field, end_field, records_field, required
) as table
with problems as (
    select delivery, 1 as stage, 0 as pos, null::varchar as field, 'not UTF-8' as reason, null::bigint as line
    from query_table(documents) where not_utf8
    union all
    select delivery, 2, 0, null, 'not JSON', null from query_table(documents) where not not_utf8 and doc is null
    union all
    select delivery, 3, 0, null, 'not a JSON object', null
    from query_table(documents) where doc is not null and json_type(doc) <> 'OBJECT'
    union all
    select delivery, 4, 0, 'data',
        case when json_type(doc, '$.data') is null then 'missing' else 'not a list' end, null
    from query_table(documents)
    where json_type(doc) = 'OBJECT' and coalesce(json_type(doc, '$.data'), '') <> 'ARRAY'
    union all
    select delivery, 5, bucket_no, 'data[' || (bucket_no - 1) || ']', 'not an object', null
    from query_table(buckets) where json_type(bucket) <> 'OBJECT'
    union all
    select delivery, 6, bucket_no, 'data[' || (bucket_no - 1) || '].' || start_field,
        timestamp_problem(bucket, '$.' || start_field, false), null
    from query_table(buckets)
    where json_type(bucket) = 'OBJECT' and timestamp_problem(bucket, '$.' || start_field, false) is not null
    union all
    select delivery, 7, bucket_no, 'data[' || (bucket_no - 1) || '].' || end_field,
        timestamp_problem(bucket, '$.' || end_field, true), null
    from query_table(buckets)
    where end_field is not null
      and json_type(bucket) = 'OBJECT' and timestamp_problem(bucket, '$.' || end_field, true) is not null
    union all
    select delivery, 8, bucket_no, 'data[' || (bucket_no - 1) || '].' || records_field,
        case when json_type(bucket, '$.' || records_field) is null then 'missing' else 'not a list' end, null
    from query_table(buckets)
    where records_field is not null
      and json_type(bucket) = 'OBJECT' and coalesce(json_type(bucket, '$.' || records_field), '') <> 'ARRAY'
    union all
    select delivery, 9, ordinal, null, 'result is not an object', ordinal
    from query_table(results) where json_type(r) <> 'OBJECT'
    union all
    select delivery, 10, ordinal, substr(p, 3), 'missing', ordinal
    from query_table(results), unnest(required::varchar[]) as t(p)
    where json_type(r) = 'OBJECT' and json_type(r, p) is null
)
select d.file, p.field, p.reason, p.line
from problems as p join query_table(pages) as d using (delivery)
order by p.delivery, p.stage, p.pos, p.field
limit 1;
