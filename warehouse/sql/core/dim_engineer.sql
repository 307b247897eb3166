create table core.dim_engineer as

with roster as (
    select * from src_roster
),

final as (
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
        valid_to,
        valid_to is null as is_current
    from roster
)

select * from final
order by engineer_id, valid_from;

comment on table core.dim_engineer is 'Engineers from the HR roster, effective-dated: one row per engineer per period in which team, level, title and location held. valid_to is exclusive; null means current.';
comment on column core.dim_engineer.engineer_id is 'Stable HR identifier of the engineer.';
comment on column core.dim_engineer.email is 'Work email, lower-cased.';
comment on column core.dim_engineer.name is 'Display name.';
comment on column core.dim_engineer.team is 'Team in this period.';
comment on column core.dim_engineer.cost_centre is 'Cost centre charged for this engineer in this period.';
comment on column core.dim_engineer.level is 'Career level in this period (e.g. L5); a promotion opens a new row.';
comment on column core.dim_engineer.title is 'Job title in this period.';
comment on column core.dim_engineer.location is 'Work location: City, ST in the US; City, Region, Country elsewhere.';
comment on column core.dim_engineer.valid_from is 'First day (inclusive) this row is in force.';
comment on column core.dim_engineer.valid_to is 'Day (exclusive) this row stops being in force; null while current.';
comment on column core.dim_engineer.is_current is 'True for the row in force today (open-ended).';
