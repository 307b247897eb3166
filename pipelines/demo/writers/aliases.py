"""Writer of the `aliases` reference: each engineer's email, API keys and OpenAI user id, over their employment."""

from __future__ import annotations

from pipelines.demo.landing import Landing
from pipelines.demo.org import Company

KIND = "aliases"


def write(company: Company, landing: Landing) -> None:
    """`aliases/aliases.csv`; shared and unknown keys have no alias (they are not one engineer's)."""
    aliases: list[tuple[object, ...]] = []
    for e in company.engs:
        vf, vt = e.valid_from.isoformat(), (e.valid_to.isoformat() if e.valid_to else "")
        aliases.append((e.eid, "email", e.email, vf, vt))
        for key in (e.anth_key, e.anth_api_key):
            if key:
                aliases.append((e.eid, "api_key_id", key, vf, vt))
        if e.oai_key:
            aliases.append((e.eid, "api_key_id", e.oai_key, vf, vt))
        if e.oai_user:
            aliases.append((e.eid, "openai_user_id", e.oai_user, vf, vt))
    landing.csv(f"{KIND}/aliases.csv", ("engineer_id", "kind", "value", "valid_from", "valid_to"), aliases)
