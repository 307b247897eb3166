-- grain: day ChargePeriodStart::date; unchanged core.dim_model(provider, model, publisher, model_family)
create table mart.focus as

-- The AI spend of core.fct_spend as a FOCUS 1.2 cost and usage dataset (docs/focus.md): one row per
-- core.fct_spend row that carries money, so BilledCost sums to core.fct_spend.spend_usd exactly, per month.
-- Tokens become ConsumedQuantity in Tokens (the kinds stay apart in x_ columns: core.fct_spend carries one
-- dollar figure per row, not one per token kind); seats, requests and credits keep their own unit.
with spend as (
    select * from core.fct_spend
    where spend_usd is not null
),

models as (
    select * from core.dim_model
),

engineers as (
    select * from core.dim_engineer
),

providers(provider, provider_name, service_name) as (
    -- display names FOCUS shows; a provider not listed shows its id in title case
    values
        ('anthropic', 'Anthropic', 'Claude API'),
        ('openai', 'OpenAI', 'OpenAI API'),
        ('aws', 'AWS', 'Amazon Bedrock'),
        ('gcp', 'Google Cloud', 'Vertex AI'),
        ('azure', 'Microsoft', 'Azure OpenAI')
),

publishers(publisher, publisher_name) as (
    values
        ('anthropic', 'Anthropic'),
        ('openai', 'OpenAI'),
        ('google', 'Google'),
        ('meta', 'Meta'),
        ('mistral', 'Mistral AI'),
        ('amazon', 'Amazon'),
        ('deepseek', 'DeepSeek'),
        ('xai', 'xAI'),
        ('cohere', 'Cohere')
),

-- FOCUS units are plural nouns in title case ("Tokens", "Requests"); the canonical record's own unit otherwise
units(unit, focus_unit) as (
    values
        ('seat', 'Seats'),
        ('request', 'Requests'),
        ('requests', 'Requests'),
        ('credit', 'Credits'),
        ('credits', 'Credits'),
        ('tokens', 'Tokens'),
        ('1000_tokens', '1000 Tokens')
),

described as (
    select
        spend.*,
        coalesce(providers.provider_name, upper(left(spend.provider, 1)) || replace(substr(spend.provider, 2), '_', ' ')) as provider_name,
        coalesce(providers.service_name, upper(left(spend.provider, 1)) || replace(substr(spend.provider, 2), '_', ' ')) as service_name,
        coalesce(
            publishers.publisher_name,
            upper(left(models.publisher, 1)) || substr(models.publisher, 2),
            providers.provider_name,
            upper(left(spend.provider, 1)) || replace(substr(spend.provider, 2), '_', ' ')
        ) as publisher_name,
        models.model_family,
        engineers.team,
        coalesce(engineers.cost_centre, spend.scope_cost_centre) as cost_centre,
        spend.uncached_input_tokens + spend.cache_read_tokens + spend.cache_write_5m_tokens
            + spend.cache_write_1h_tokens + spend.output_tokens as total_tokens,
        units.focus_unit
    from spend
    left join providers on providers.provider = spend.provider
    left join models on models.provider = spend.provider and models.model = spend.model
    left join publishers on publishers.publisher = models.publisher
    left join units on units.unit = lower(spend.unit)
    left join engineers
        on engineers.engineer_id = spend.engineer_id
        and engineers.valid_from <= spend.usage_date
        and (engineers.valid_to is null or spend.usage_date < engineers.valid_to)
),

days as (
    -- the period columns depend on the billing day alone: computed once per day, not once per row
    select
        billing_date,
        (date_trunc('month', billing_date)::date + interval 1 month)::timestamptz as billing_period_end,
        date_trunc('month', billing_date)::date::timestamptz as billing_period_start,
        (billing_date + interval 1 day)::timestamptz as charge_period_end,
        billing_date::timestamptz as charge_period_start,
        strftime(billing_date, '%Y-%m') as billing_month
    from (select distinct billing_date from core.fct_spend)
),

measured as (
    -- what the row consumed: its own quantity and unit where it has one (seats, requests, credits), else tokens
    select
        *,
        case
            when quantity is not null then quantity
            else total_tokens::decimal(38, 12)
        end as consumed_quantity,
        case
            when quantity is not null then coalesce(focus_unit, unit)
            when total_tokens is not null then 'Tokens'
        end as consumed_unit
    from described
    inner join days using (billing_date)
),

final as (
    select
        spend_usd::decimal(38, 12) as BilledCost,
        provider as BillingAccountId,
        provider_name as BillingAccountName,
        'USD' as BillingCurrency,
        billing_period_end as BillingPeriodEnd,
        billing_period_start as BillingPeriodStart,
        case charge_category
            when 'credit' then 'Credit'
            when 'tax' then 'Tax'
            when 'refund' then 'Adjustment'
            when 'purchase' then 'Purchase'
            else 'Usage'
        end as ChargeCategory,
        if(charge_class = 'correction', 'Correction', null) as ChargeClass,
        concat_ws(
            ' ',
            coalesce(model, service_name),
            case
                when cost_basis = 'billed' then 'billed, carried by no metered usage'
                when billing_model = 'seat' then 'seats'
                when billing_model = 'credits' then 'credits'
                when billing_model = 'premium_request' then 'premium requests'
                when total_tokens is not null then 'tokens'
                else charge_category
            end,
            if(charge_class = 'correction', 'correction of ' || strftime(correction_of_month, '%Y-%m'), null)
        ) as ChargeDescription,
        case
            when charge_category = 'purchase' then 'One-Time'
            when billing_model = 'seat' then 'Recurring'
            else 'Usage-Based'
        end as ChargeFrequency,
        charge_period_end as ChargePeriodEnd,
        charge_period_start as ChargePeriodStart,
        consumed_quantity::decimal(38, 12) as ConsumedQuantity,
        consumed_unit as ConsumedUnit,
        spend_usd::decimal(38, 12) as ContractedCost,
        spend_usd::decimal(38, 12) as EffectiveCost,
        provider_name || '-' || billing_month as InvoiceId,
        provider_name as InvoiceIssuerName,
        -- a bill line no usage carries has no list price of its own: its list cost is what was billed
        coalesce(list_cost_usd, spend_usd)::decimal(38, 12) as ListCost,
        consumed_quantity::decimal(38, 12) as PricingQuantity,
        consumed_unit as PricingUnit,
        provider_name as ProviderName,
        publisher_name as PublisherName,
        'AI and Machine Learning' as ServiceCategory,
        service_name as ServiceName,
        'Generative AI' as ServiceSubcategory,
        scope_id as SubAccountId,
        -- providers' usage exports name scopes by id only
        scope_id as SubAccountName,
        case scope_kind
            when 'workspace' then 'Workspace'
            when 'project' then 'Project'
            when 'account' then 'Account'
            else scope_kind
        end as SubAccountType,
        -- the JSON object of the tags that are set, written directly (a map and a lambda per row cost more
        -- than the rest of the row); concat_ws skips the null ones
        '{' || concat_ws(
            ',',
            '"engineer":' || to_json(engineer_id),
            '"team":' || to_json(team),
            '"cost_centre":' || to_json(cost_centre)
        ) || '}' as Tags,
        engineer_id as x_EngineerId,
        principal_kind as x_PrincipalKind,
        principal_id as x_PrincipalId,
        attribution as x_Attribution,
        model as x_Model,
        model_family as x_ModelFamily,
        billing_model as x_BillingModel,
        uncached_input_tokens as x_UncachedInputTokens,
        cache_read_tokens as x_CacheReadTokens,
        cache_write_5m_tokens as x_CacheWrite5mTokens,
        cache_write_1h_tokens as x_CacheWrite1hTokens,
        output_tokens as x_OutputTokens,
        cost_basis as x_CostBasis,
        source as x_Source,
        usage_date as x_UsageDate
    from measured
)

select * from final
order by ChargePeriodStart, BillingAccountId, SubAccountId, x_Model, x_PrincipalKind, x_PrincipalId, x_EngineerId,
    x_Attribution, ChargeClass, ChargeDescription;

comment on table mart.focus is 'The AI spend of core.fct_spend as a FOCUS 1.2 cost and usage dataset (FinOps Foundation), one row per spend row that carries money; BilledCost sums to core.fct_spend per month exactly. Passes focus-validator 2.2.1 (rule set 1.2.0.1). docs/focus.md maps every column.';
comment on column mart.focus.BilledCost is 'FOCUS BilledCost: the spend of the row in USD (core.fct_spend.spend_usd: billed dollars allocated to the usage, or list price where no bill covers it).';
comment on column mart.focus.BillingAccountId is 'FOCUS BillingAccountId: the provider account that bills (the provider id; one organization per provider).';
comment on column mart.focus.BillingAccountName is 'FOCUS BillingAccountName: display name of the billing account.';
comment on column mart.focus.BillingCurrency is 'FOCUS BillingCurrency: always USD (non-USD bills are converted at the source''s or the day''s rate).';
comment on column mart.focus.BillingPeriodEnd is 'FOCUS BillingPeriodEnd: first instant of the next calendar month, UTC (exclusive).';
comment on column mart.focus.BillingPeriodStart is 'FOCUS BillingPeriodStart: first instant of the billing month, UTC (inclusive).';
comment on column mart.focus.ChargeCategory is 'FOCUS ChargeCategory from the canonical record''s charge_category: Usage, Credit, Tax, Purchase, or Adjustment (a refund).';
comment on column mart.focus.ChargeClass is 'FOCUS ChargeClass: Correction for late data or a change to a closed month, posted into the open month; else null.';
comment on column mart.focus.ChargeDescription is 'FOCUS ChargeDescription: the model (or the service where no model applies), what was charged (tokens, seats, credits, a bill line no usage carries), and the month a correction corrects.';
comment on column mart.focus.ChargeFrequency is 'FOCUS ChargeFrequency: Recurring for seats, One-Time for purchases, else Usage-Based.';
comment on column mart.focus.ChargePeriodEnd is 'FOCUS ChargePeriodEnd: the end of the provider UTC billing day (exclusive).';
comment on column mart.focus.ChargePeriodStart is 'FOCUS ChargePeriodStart: the provider UTC billing day (inclusive).';
comment on column mart.focus.ConsumedQuantity is 'FOCUS ConsumedQuantity: tokens of every kind (input of every kind plus output; reasoning is inside output) or, for seats, requests and credits, their own quantity.';
comment on column mart.focus.ConsumedUnit is 'FOCUS ConsumedUnit: Tokens, or the row''s own unit (Seats, Requests, Credits).';
comment on column mart.focus.ContractedCost is 'FOCUS ContractedCost: the same as BilledCost (no commitment discounts are modelled).';
comment on column mart.focus.EffectiveCost is 'FOCUS EffectiveCost: the same as BilledCost (nothing is amortized).';
comment on column mart.focus.InvoiceId is 'FOCUS InvoiceId: provider and billing month (the provider''s monthly invoice the charge belongs to).';
comment on column mart.focus.InvoiceIssuerName is 'FOCUS InvoiceIssuerName: who invoices (the provider).';
comment on column mart.focus.ListCost is 'FOCUS ListCost: the tokens at list price (core.fct_spend.list_cost_usd); a bill line no usage carries has no list price and shows its billed amount.';
comment on column mart.focus.PricingQuantity is 'FOCUS PricingQuantity: the same quantity as ConsumedQuantity (prices differ by token kind, so no single unit price is given).';
comment on column mart.focus.PricingUnit is 'FOCUS PricingUnit: the same unit as ConsumedUnit.';
comment on column mart.focus.ProviderName is 'FOCUS ProviderName: who bills the spend (AWS for Claude on Bedrock).';
comment on column mart.focus.PublisherName is 'FOCUS PublisherName: who made the model.';
comment on column mart.focus.ServiceCategory is 'FOCUS ServiceCategory: AI and Machine Learning.';
comment on column mart.focus.ServiceName is 'FOCUS ServiceName: the provider''s inference service (Claude API, OpenAI API, ...).';
comment on column mart.focus.ServiceSubcategory is 'FOCUS ServiceSubcategory: Generative AI.';
comment on column mart.focus.SubAccountId is 'FOCUS SubAccountId: the provider scope (Anthropic workspace, OpenAI project, cloud account).';
comment on column mart.focus.SubAccountName is 'FOCUS SubAccountName: the scope id again (providers'' usage exports carry no scope display name).';
comment on column mart.focus.SubAccountType is 'FOCUS SubAccountType: Workspace, Project or Account.';
comment on column mart.focus.Tags is 'FOCUS Tags, a JSON object: engineer (engineer id), team and cost_centre (the engineer''s, else the scope''s); keys with no value are left out.';
comment on column mart.focus.x_EngineerId is 'Extension: engineer charged; null when unattributed (maps to the FOCUS 1.5 draft principal column).';
comment on column mart.focus.x_PrincipalKind is 'Extension: kind of provider-side identity that used the route (api_key_id, email, ...).';
comment on column mart.focus.x_PrincipalId is 'Extension: the provider-side identity value.';
comment on column mart.focus.x_Attribution is 'Extension: alias, shared_route or unattributed (core.fct_spend.attribution).';
comment on column mart.focus.x_Model is 'Extension: canonical model id (maps to the FOCUS 1.5 draft model column).';
comment on column mart.focus.x_ModelFamily is 'Extension: model family for chargeback (docs/model-families.md).';
comment on column mart.focus.x_BillingModel is 'Extension: metered_tokens, seat, premium_request, credits or other.';
comment on column mart.focus.x_UncachedInputTokens is 'Extension, token kind: input tokens neither read from nor written to cache.';
comment on column mart.focus.x_CacheReadTokens is 'Extension, token kind: input tokens read from cache.';
comment on column mart.focus.x_CacheWrite5mTokens is 'Extension, token kind: input tokens written to a 5-minute cache.';
comment on column mart.focus.x_CacheWrite1hTokens is 'Extension, token kind: input tokens written to a 1-hour cache.';
comment on column mart.focus.x_OutputTokens is 'Extension, token kind: output tokens, reasoning included.';
comment on column mart.focus.x_CostBasis is 'Extension: allocated, list or billed (core.fct_spend.cost_basis).';
comment on column mart.focus.x_Source is 'Extension: the source the tokens came from.';
comment on column mart.focus.x_UsageDate is 'Extension: the day in the reporting time zone (person-level reporting uses it).';
