-- The month's top engineers by token spend (ties by engineer id). To move to mart.leaderboard when it lands.
select
    engineer_id,
    name,
    team,
    level,
    spend_usd,
    spend_share_of_base
from mart.engineer_monthly
where month = $month and spend_usd > 0
order by spend_usd desc, engineer_id
limit $limit
