-- One billing month of mart.focus (BillingPeriodStart is the month's first instant, UTC).
select *
from mart.focus
where (BillingPeriodStart at time zone 'UTC')::date = $month
order by ChargePeriodStart, BillingAccountId, SubAccountId, x_Model, x_PrincipalKind, x_PrincipalId, x_EngineerId,
    x_Attribution, ChargeClass, ChargeDescription
