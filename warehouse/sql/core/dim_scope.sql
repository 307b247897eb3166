create table core.dim_scope as

with scopes as (
    select * from src_scopes
),

final as (
    select
        provider,
        scope_kind,
        scope_id,
        name,
        cost_centre,
        coalesce(valid_from, date '1970-01-01') as valid_from,
        valid_to
    from scopes
)

select * from final
order by provider, scope_kind, scope_id, valid_from;

comment on table core.dim_scope is 'Provider-side scopes (Anthropic workspaces, OpenAI projects, cloud accounts) mapped to cost centres, so spend can be charged back even where no person is named.';
comment on column core.dim_scope.provider is 'Provider that owns the scope (anthropic, openai, ...).';
comment on column core.dim_scope.scope_kind is 'workspace, project or account.';
comment on column core.dim_scope.scope_id is 'Provider id of the scope; default is the provider''s default workspace or project.';
comment on column core.dim_scope.name is 'Human name of the scope.';
comment on column core.dim_scope.cost_centre is 'Cost centre the scope is charged to.';
comment on column core.dim_scope.valid_from is 'First day (inclusive) the mapping applies.';
comment on column core.dim_scope.valid_to is 'Day (exclusive) the mapping stops applying; null while current.';
