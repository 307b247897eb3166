create table core.dim_engineer as

-- Engineers come from two kinds of HR file. Effective-dated rows (src_roster) are taken as they are.
-- Snapshots (src_roster_snapshots: who was employed as of each snapshot_date) become periods by
-- gaps-and-islands: an engineer's consecutive snapshots with identical attributes form one period, which
-- ends at the first later snapshot where the engineer is missing or any attribute changed.

with effective as (
    select
        engineer_id,
        lower(email) as email,
        name,
        team,
        cost_centre,
        level,
        title,
        location,
        valid_from,
        valid_to
    from src_roster
),

snapshot_dates as (
    select
        snapshot_date,
        row_number() over (order by snapshot_date) as snapshot_seq
    from (select distinct snapshot_date from src_roster_snapshots)
),

snapshots as (
    select
        s.engineer_id,
        lower(s.email) as email,
        s.name,
        s.team,
        s.cost_centre,
        s.level,
        s.title,
        s.location,
        s.valid_from as hire_date,
        s.snapshot_date,
        d.snapshot_seq,
        row(lower(s.email), s.name, s.team, s.cost_centre, s.level, s.title, s.location) as attributes
    from src_roster_snapshots as s
    inner join snapshot_dates as d using (snapshot_date)
),

snapshot_neighbours as (
    select
        *,
        lag(snapshot_seq) over by_engineer as previous_seq,
        lag(attributes) over by_engineer as previous_attributes
    from snapshots
    window by_engineer as (partition by engineer_id order by snapshot_seq)
),

snapshot_changes as (
    select
        *,
        -- (re)joining: missing from the snapshot just before, or never seen before
        previous_seq is null or previous_seq <> snapshot_seq - 1 as starts_stint,
        previous_seq is null
        or previous_seq <> snapshot_seq - 1
        or attributes is distinct from previous_attributes as starts_period
    from snapshot_neighbours
),

snapshot_islands as (
    select
        *,
        sum(starts_period::integer) over (
            partition by engineer_id order by snapshot_seq rows unbounded preceding
        ) as period_number
    from snapshot_changes
),

snapshot_periods as (
    select
        engineer_id,
        period_number,
        any_value(email) as email,
        any_value(name) as name,
        any_value(team) as team,
        any_value(cost_centre) as cost_centre,
        any_value(level) as level,
        any_value(title) as title,
        any_value(location) as location,
        bool_or(starts_stint) as starts_stint,
        min(hire_date) as hire_date,
        min(snapshot_date) as first_snapshot_date,
        max(snapshot_seq) as last_snapshot_seq
    from snapshot_islands
    group by engineer_id, period_number
),

snapshot_bounds as (
    select
        p.*,
        -- the first later snapshot without this period: the engineer left or an attribute changed; null if latest
        d.snapshot_date as valid_to
    from snapshot_periods as p
    left join snapshot_dates as d on d.snapshot_seq = p.last_snapshot_seq + 1
),

derived as (
    select
        engineer_id,
        email,
        name,
        team,
        cost_centre,
        level,
        title,
        location,
        -- a stint starts at its hire date when HR gives one after the previous stint ended (the first stint
        -- always may); otherwise a period starts at the first snapshot that shows it
        case
            when
                starts_stint
                and hire_date is not null
                and hire_date >= coalesce(lag(valid_to) over (partition by engineer_id order by period_number), hire_date)
                then least(hire_date, first_snapshot_date)
            else first_snapshot_date
        end as valid_from,
        valid_to
    from snapshot_bounds
),

derived_only as (
    -- an engineer with effective-dated rows is described by those rows alone
    select derived.*
    from derived
    anti join effective using (engineer_id)
),

final as (
    select
        engineer_id,
        email,
        name,
        team,
        cost_centre,
        level,
        title,
        location,
        valid_from,
        valid_to,
        valid_to is null as is_current
    from (
        select * from effective
        union all by name
        select * from derived_only
    )
)

select * from final
order by engineer_id, valid_from;

comment on table core.dim_engineer is 'Engineers from the HR roster, effective-dated: one row per engineer per period in which team, level, title and location held. Built from effective-dated roster rows and, for engineers without them, from accumulated HR snapshots (consecutive snapshots with identical attributes form one period). valid_to is exclusive; null means current.';
comment on column core.dim_engineer.engineer_id is 'Stable HR identifier of the engineer.';
comment on column core.dim_engineer.email is 'Work email, lower-cased.';
comment on column core.dim_engineer.name is 'Display name.';
comment on column core.dim_engineer.team is 'Team in this period.';
comment on column core.dim_engineer.cost_centre is 'Cost centre charged for this engineer in this period.';
comment on column core.dim_engineer.level is 'Career level in this period (e.g. L5); a promotion opens a new row.';
comment on column core.dim_engineer.title is 'Job title in this period.';
comment on column core.dim_engineer.location is 'Work location: City, ST in the US; City, Region, Country elsewhere.';
comment on column core.dim_engineer.valid_from is 'First day (inclusive) this row is in force. From snapshots: the first snapshot date of the period, or the hire date when the engineer (re)joins.';
comment on column core.dim_engineer.valid_to is 'Day (exclusive) this row stops being in force; null while current. From snapshots: the first later snapshot date where the engineer is missing or any attribute changed.';
comment on column core.dim_engineer.is_current is 'True for the row in force today (open-ended).';
