-- What a month-grain model's rows in the months it recomputes (`delta.main.model_months`) may read: the
-- billing days of a month's own days and of the reach days before its last day (a trailing window), widened
-- by the zone_days between usage_date and billing_date, and the months of those usage days.
create or replace table delta.main.model_days as
select distinct unnest(generate_series(
    least(month, last_day(month) - $reach::integer) - $zone_days::integer,
    last_day(month) + $zone_days::integer,
    interval 1 day
))::date as day
from delta.main.model_months;

create or replace table delta.main.model_read_months as
select distinct unnest(generate_series(
    date_trunc('month', least(month, last_day(month) - $reach::integer)), month, interval 1 month
))::date as month
from delta.main.model_months;
