-- What every reader hands back, from two tables it names: `deliveries` (one row per delivery: its
-- `delivery` number, lineage and owner) and `records` (one row per parsed record: `delivery`, `line`,
-- `reject_field`, `reject_reason`, `stat_date` = the billing date it lands on, and the mapped columns).

-- One reject row per rejected record.
create or replace temp macro rejected_records(records, deliveries) as table
select d.raw_sha256, d.file, c.line, c.reject_field as field, c.reject_reason as reason
from query_table(records) as c join query_table(deliveries) as d using (delivery)
where c.reject_reason is not null
order by c.delivery, c.line;

-- One row per delivery: parsed = loaded + rejected, and the billing dates its loaded records cover.
create or replace temp macro delivery_stats(records, deliveries) as table
select
    d.raw_sha256,
    count(c.line) as parsed,
    count(c.line) - count(c.reject_reason) as loaded,
    count(c.reject_reason) as rejected,
    min(c.stat_date) as min_date,
    max(c.stat_date) as max_date
from query_table(deliveries) as d
left join query_table(records) as c using (delivery)
group by d.delivery, d.raw_sha256
order by d.delivery;

-- Mapped records that were not rejected, with a unique, deterministic order for `keep_latest`:
-- later manifest seq wins, then later delivery in the batch, then later record.
create or replace temp macro loaded_rows(records, deliveries) as table
select
    c.* exclude (delivery, line, reject_field, reject_reason, stat_date),
    d.raw_sha256,
    d.ingested_at,
    row_number() over (order by d.seq, c.delivery, c.line) as delivery_rank
from query_table(records) as c join query_table(deliveries) as d using (delivery)
where c.reject_reason is null;
