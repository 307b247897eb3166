-- The lake days an incremental build recomputes, and the months of the month-grain marts it recomputes with
-- the window of billing days those months' rows may come from (usage_date is within a few days of billing_date).
create table delta.main.changed_days as
select unnest($days::date[]) as day;

create table delta.main.changed_months as
select
    month,
    month - $zone_days::integer as from_day,
    last_day(month) + $zone_days::integer as to_day
from (select unnest($months::date[]) as month);
