-- Models with usage that has no list price: flagged for an admin, never priced at $0.
select provider, model_raw as model, records, first_seen, last_seen
from mart.unpriced_models
order by provider, model_raw
