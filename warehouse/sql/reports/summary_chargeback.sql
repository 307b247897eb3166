-- Chargeback by team in the month: engineers' spend by their end-of-month team, and the spend no engineer
-- carries as one line of its own. Sums to core.fct_spend for the month (invariant 1). To move to
-- mart.chargeback / mart.team_monthly when they land.
with engineers as (
    select coalesce(team, '(no team)') as team, sum(spend_usd) as spend_usd
    from mart.engineer_monthly
    where month = $month
    group by all
),

unattributed as (
    select '(unattributed)' as team, sum(spend_usd) as spend_usd
    from mart.unattributed
    where month = $month
    group by all
)

select team, spend_usd::decimal(38, 12) as spend_usd
from (select * from engineers union all select * from unattributed)
where spend_usd <> 0
order by spend_usd desc, team
