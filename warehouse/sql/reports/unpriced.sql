-- Models with usage that has no list price: flagged for an admin, never priced at $0.
select provider, model, raw_names, first_seen, last_seen
from core.dim_model
where unpriced
order by provider, model
