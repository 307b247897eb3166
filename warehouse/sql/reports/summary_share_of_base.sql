-- Each banded engineer's annualized token spend as a share of their band's median base, in the month.
select
    engineer_id,
    spend_share_of_base
from mart.engineer_monthly
where month = $month and spend_share_of_base is not null
order by spend_share_of_base, engineer_id
