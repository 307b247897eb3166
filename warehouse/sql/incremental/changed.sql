-- The lake days an incremental build recomputes.
create table delta.main.changed_days as
select unnest($days::date[]) as day;
