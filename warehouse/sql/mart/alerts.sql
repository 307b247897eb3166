create table mart.alerts as

-- Rules come from config [alerts] (pipelines/default_config.toml), one struct per rule:
-- run_rate_share_of_base fires when the annualized run rate is at least `threshold` times the band's base p50;
-- month_over_month fires when the month's spend per active day is at least `threshold` times the previous
-- month's, and the previous month's spend is at least `min_previous_usd`.
with rules as (
    select unnest(
        $alert_rules::struct(rule varchar, kind varchar, threshold decimal(18, 6), min_previous_usd decimal(38, 12))[],
        recursive := true
    )
),

monthly as (
    select * from mart.engineer_monthly
),

run_rate as (
    select
        monthly.engineer_id,
        rules.rule,
        monthly.month,
        monthly.spend_share_of_base as value,
        rules.threshold,
        monthly.short_window,
        'annualized run rate $' || format('{:,}', round(monthly.annualized_run_rate_usd)::hugeint)
        || ' a year is ' || round(monthly.spend_share_of_base * 100, 1)::varchar
        || '% of base $' || format('{:,}', round(monthly.band_base_p50)::hugeint)
        || ' (' || monthly.run_rate_days || ' roster days of the trailing 90'
        || if(monthly.short_window, '; short window: few days behind the rate', '') || ')' as detail
    from monthly
    inner join rules on rules.kind = 'run_rate_share_of_base'
    where monthly.spend_share_of_base >= rules.threshold
),

month_pairs as (
    select
        monthly.engineer_id,
        monthly.month,
        monthly.spend_usd,
        monthly.days_active,
        previous.month as previous_month,
        previous.spend_usd as previous_spend_usd,
        previous.days_active as previous_days_active
    from monthly
    inner join monthly as previous
        on previous.engineer_id = monthly.engineer_id
        and previous.month = (monthly.month - interval 1 month)::date
    where previous.spend_usd > 0
),

month_over_month as materialized (
    -- materialized: pushed down into the pairs, the threshold filter below would divide for every pair
    select
        month_pairs.engineer_id,
        rules.rule,
        month_pairs.month,
        -- spend per active day over the previous month's, so a partial month compares fairly
        share_div(
            month_pairs.spend_usd * month_pairs.previous_days_active,
            month_pairs.previous_spend_usd * month_pairs.days_active
        ) as value,
        rules.threshold,
        least(month_pairs.days_active, month_pairs.previous_days_active) < $short_window_days as short_window,
        month_pairs.previous_spend_usd,
        month_pairs.previous_month,
        month_pairs.spend_usd,
        month_pairs.days_active,
        month_pairs.previous_days_active
    from month_pairs
    inner join rules on rules.kind = 'month_over_month'
    where month_pairs.previous_spend_usd >= coalesce(rules.min_previous_usd, 0)
),

month_over_month_fired as (
    select
        engineer_id,
        rule,
        month,
        value,
        threshold,
        short_window,
        'spend $' || format('{:,.2f}', round(spend_usd, 2)::double) || ' over ' || days_active || ' days is '
        || round(value, 1)::varchar || 'x the daily rate of ' || strftime(previous_month, '%Y-%m')
        || ' ($' || format('{:,.2f}', round(previous_spend_usd, 2)::double) || ' over ' || previous_days_active || ' days)'
        || if(short_window, '; short window: few days behind the rate', '') as detail
    from month_over_month
    where value >= threshold
),

fired as (
    select * from run_rate
    union all
    select * from month_over_month_fired
),

streaks as (
    -- consecutive months the rule fired for the engineer share a streak; `since` is its first month
    select
        *,
        (year(month) * 12 + month(month))
        - row_number() over (partition by engineer_id, rule order by month) as streak
    from fired
),

final as (
    select
        engineer_id,
        rule,
        month,
        value,
        threshold,
        min(month) over (partition by engineer_id, rule, streak) as since,
        short_window,
        detail
    from streaks
)

select * from final
order by month, rule, engineer_id;

comment on table mart.alerts is 'Engineers whose token spend crossed a rule of config [alerts] in a month: which rule, the numbers behind it and since when.';
comment on column mart.alerts.engineer_id is 'Engineer.';
comment on column mart.alerts.rule is 'Rule that fired (config [alerts]; defaults run_rate_half_base, spend_over_base, month_over_month_jump).';
comment on column mart.alerts.month is 'Month the rule fired (first day).';
comment on column mart.alerts.value is 'The figure tested: annualized run rate / base p50 for run-rate rules; spend per active day / the previous month''s for month-over-month rules.';
comment on column mart.alerts.threshold is 'The rule''s threshold; the rule fires when value >= threshold.';
comment on column mart.alerts.since is 'First month of the unbroken run of months in which this rule fired for the engineer.';
comment on column mart.alerts.short_window is 'True when the figure rests on fewer roster days than config alerts.short_window_days: read it with care.';
comment on column mart.alerts.detail is 'The alert in words, with the numbers behind it (rounded for reading).';
