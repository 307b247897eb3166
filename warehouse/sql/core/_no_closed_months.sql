-- No month is closed yet: frozen spend is an empty table shaped like the books.
create or replace temp view src_closed_spend as
select *, null::varchar as charge_class, null::date as correction_of_month
from spend_computed
where false
