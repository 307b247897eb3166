-- Identity list pages (API keys, users) -> identities: (provider, kind, value) belongs to the person with
-- `email` over [valid_from, valid_to). Records come from identity_pages(provider, list, pulled_at, page,
-- file, body), a batch of pages at a time; one pull of one list is one snapshot, every page of it sharing
-- its pulled_at.
-- A record is recognised by its own type field, not by the list it came in.

create or replace temp macro instant(rec, path) as
    case
        when json_type(rec, path) = 'VARCHAR' then try_cast(rec ->> path as timestamptz)
        when json_type(rec, path) in ('UBIGINT', 'BIGINT', 'DOUBLE') then
            to_timestamp(try_cast(rec ->> path as double))
    end;

create or replace temp macro identity_checked() as table
with listed as (
    select provider, list, pulled_at, file, json_extract(body::json, '$.data[*]') as record_list
    from identity_pages
),

exploded as (
    select
        provider, list, pulled_at, file,
        unnest(record_list) as rec,
        generate_subscripts(record_list, 1) as record_no
    from listed
),

typed as (
    select
        *,
        case
            when provider = 'anthropic' and rec ->> '$.type' = 'api_key' then 'api_keys'
            when provider = 'anthropic' and rec ->> '$.type' = 'user' then 'users'
            when provider = 'openai' and rec ->> '$.object' = 'organization.project.api_key' then 'api_keys'
            when provider = 'openai' and rec ->> '$.object' = 'organization.user' then 'users'
        end as shape,
        rec ->> '$.id' as id,
        nullif(trim(rec ->> '$.name'), '') as name,
        lower(trim(coalesce(rec ->> '$.email', rec ->> '$.owner.user.email'))) as email,
        rec ->> '$.status' as status,
        coalesce(rec ->> '$.created_by.type', rec ->> '$.owner.type') as owner_type,
        rec ->> '$.created_by.id' as owner_id,
        -- a user dates from when it was added, a key from when it was created
        if(rec ->> '$.object' = 'organization.user' or rec ->> '$.type' = 'user', '$.added_at', '$.created_at')
            as started_field,
        instant(rec, '$.expires_at') as expires_at
    from exploded
),

checked as (
    select
        *,
        instant(rec, started_field) as started_at,
        json_type(rec, started_field) is not null and json_type(rec, started_field) <> 'NULL' as has_start,
        case
            when shape is null then 'not an API key or user record'
            when shape <> list then 'a ' || shape || ' record in the ' || list || ' list'
            when shape = 'api_keys' and coalesce(owner_type, '') <> 'user' then
                'owned by ' || coalesce(owner_type, 'nobody named') || ', not a person'
        end as filter_reason
    from typed
)

select
    * exclude (has_start, filter_reason),
    case
        when id is null or trim(id) = '' then 'id'
        when shape = 'users' and (email is null or email = '') then 'email'
        when (has_start or shape = 'api_keys') and started_at is null then substr(started_field, 3)
    end as reject_field,
    case
        when id is null or trim(id) = '' then 'missing'
        when shape = 'users' and (email is null or email = '') then 'missing'
        when has_start and started_at is null then 'not a timestamp'
        when shape = 'api_keys' and started_at is null then 'missing'
    end as reject_reason,
    filter_reason
from checked;

-- What became of each record: rejected (a required field missing or bad), filtered (not a person's
-- identity), or loaded.
create or replace temp macro identity_records() as table
select
    * exclude (rec, started_field),
    case
        when filter_reason is not null and shape is distinct from list then 'filtered'
        when reject_field is not null then 'rejected'
        when filter_reason is not null then 'filtered'
        else 'loaded'
    end as outcome
from identity_checked();

-- The compact rows of every record (no JSON), filled a batch of pages at a time, and every pull made
-- (a pull may list nothing, and still says its keys are gone).
create or replace temp table identity_record_rows as select * from identity_records() limit 0;
create or replace temp table identity_snapshots as select distinct provider, list, pulled_at from identity_pages limit 0;

-- One row per record for the caller's counts and reject lines.
create or replace temp macro identity_outcome_rows() as table
select
    provider, list, pulled_at, file, record_no, id, outcome,
    if(outcome = 'rejected', reject_field, null) as field,
    case outcome when 'rejected' then reject_reason when 'filtered' then filter_reason end as reason
from identity_record_rows
order by pulled_at, provider, list, file, record_no;

create or replace temp macro identities() as table
with series as (
    -- every snapshot of each list, numbered in pull order
    select provider, list, dense_rank() over (partition by provider, list order by pulled_at) as snapshot_seq, pulled_at
    from (select distinct provider, list, pulled_at from identity_snapshots)
),

records as (
    select r.*, s.snapshot_seq
    from identity_record_rows as r
    inner join series as s using (provider, list, pulled_at)
    where r.outcome = 'loaded'
),

last_snapshot as (
    select provider, list, max(snapshot_seq) as max_seq from series group by all
),

lives as (
    -- a record is live in a snapshot unless archived or expired there ('inactive' keys can be re-enabled)
    select
        provider, list, id,
        min(snapshot_seq) as first_seen_seq,
        max(snapshot_seq) filter (where coalesce(status, 'active') not in ('archived', 'expired'))
            as last_live_seq,
        arg_max(email, snapshot_seq) as email,
        arg_max(owner_id, snapshot_seq) as owner_id,
        arg_max(started_at, snapshot_seq) as started_at,
        arg_max(expires_at, snapshot_seq) as expires_at
    from records
    group by all
),

ended as (
    -- gone (archived, expired or missing) from the first snapshot after the last live one, and never back:
    -- the alias covers that whole day too, since the key may have been used that day before it went
    select
        l.*,
        case
            when coalesce(l.last_live_seq + 1, l.first_seen_seq) <= m.max_seq then s.pulled_at::date + 1
        end as gone_to,
        if(l.expires_at is null, null, l.expires_at::date + 1) as expires_to
    from lives as l
    inner join last_snapshot as m using (provider, list)
    left join series as s
        on s.provider = l.provider
        and s.list = l.list
        and s.snapshot_seq = coalesce(l.last_live_seq + 1, l.first_seen_seq)
),

dated as (
    select
        *,
        started_at::date as valid_from,
        case
            when gone_to is null then expires_to
            when expires_to is null then gone_to
            else least(gone_to, expires_to)
        end as ends_to
    from ended
),

users as (
    select provider, id as user_id, email from dated where list = 'users'
),

owned as (
    -- an Anthropic key names its creator's user id; the users list gives the email (any snapshot, latest first)
    select d.provider, d.list, d.id, coalesce(d.email, u.email) as email, d.valid_from, d.ends_to
    from dated as d
    left join users as u on u.provider = d.provider and u.user_id = d.owner_id and d.list = 'api_keys'
),

names as (
    -- every name an Anthropic key had, for its whole life: the Claude Code report names a key by its name
    select distinct provider, id, name from records where list = 'api_keys' and provider = 'anthropic' and name is not null
),

aliases as (
    select
        provider,
        case when list = 'api_keys' then 'api_key_id' when provider = 'anthropic' then 'anthropic_account_id'
            else 'openai_user_id' end as kind,
        id as value, email, valid_from, ends_to as valid_to
    from owned
    union all
    select o.provider, 'api_key_name' as kind, n.name as value, o.email, o.valid_from, o.ends_to as valid_to
    from owned as o
    inner join names as n on n.provider = o.provider and n.id = o.id and o.list = 'api_keys'
)

select distinct
    provider,
    kind,
    value,
    email,
    valid_from,
    -- a record seen gone on the day it started still covers that day
    if(valid_to is not null and valid_from is not null and valid_to <= valid_from, valid_from + 1, valid_to)
        as valid_to
from aliases
where email is not null and email <> ''
order by provider, kind, value, valid_from, email;
