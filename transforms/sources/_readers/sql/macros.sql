-- Validation macros shared by every reader and mapping. A value under check is known by its kind (a
-- `json_type` name, or 'ABSENT' when the path is missing) and its text (`->>`); each
-- `*_reason(kind, val, optional)` macro returns NULL when the value is acceptable, else a short
-- reason for the reject log. Working on kind and text lets a mapping look up every field of a record
-- in one parse; the `*_problem(j, p, optional)` forms look the value up themselves.
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

-- `n` = try_cast(val as bigint), cast once by the caller: a mapping that keeps the cast in a column of its
-- own casts each value once for its check and its value (a macro repeats its argument where it is used).
create or replace temp macro int_reason_cast(kind, n, optional) as
    case
        when kind in ('ABSENT', 'NULL') then absent_reason(kind, optional)
        when kind not in ('BIGINT', 'UBIGINT') then 'not an integer'
        when n is null then 'out of range (over 10000000000)'
        when n < 0 then 'negative'
        when n > max_count() then 'out of range (over 10000000000)'
    end;

create or replace temp macro int_reason(kind, val, optional) as
    int_reason_cast(kind, try_cast(val as bigint), optional);

-- The value of a count that passed `int_reason`; 0 for anything else, so no expression overflows.
create or replace temp macro int_value_cast(n) as coalesce(if(n between 0 and max_count(), n, null), 0);
create or replace temp macro int_value_of(val) as int_value_cast(try_cast(val as bigint));

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

-- `ts` = timestamp_parsed(kind, val), parsed once by the caller (see `int_reason_cast`).
create or replace temp macro timestamp_value_parsed(ts) as if(timestamp_in_range(ts), ts, null);

create or replace temp macro timestamp_reason_parsed(kind, ts, optional) as
    case
        when kind in ('ABSENT', 'NULL') then absent_reason(kind, optional)
        when ts is null then 'not a timestamp'
        when not timestamp_in_range(ts) and kind in ('BIGINT', 'UBIGINT')
            then 'out of range (1970 to 2099; Unix time in seconds, not milliseconds)'
        when not timestamp_in_range(ts) then 'out of range (1970 to 2099)'
    end;

create or replace temp macro timestamp_value_of(kind, val) as timestamp_value_parsed(timestamp_parsed(kind, val));

create or replace temp macro timestamp_reason(kind, val, optional) as
    timestamp_reason_parsed(kind, timestamp_parsed(kind, val), optional);

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
