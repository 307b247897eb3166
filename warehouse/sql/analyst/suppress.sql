-- Team and level aggregates of fewer than $k engineers never reach the analyst file.
delete from an.mart.comp_mix where grouping in ('team', 'level') and engineers < $k;
delete from an.mart.team_monthly where engineers < $k;
