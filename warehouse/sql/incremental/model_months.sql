-- The months one month-grain model recomputes.
create or replace table delta.main.model_months as
select unnest($months::date[]) as month;
