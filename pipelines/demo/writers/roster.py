"""Writer of the `roster` reference: the HR export, one row per engineer and level held (a promotion splits it)."""

from __future__ import annotations

from pipelines.demo.company import TEAMS, TITLE_BY_LEVEL
from pipelines.demo.landing import Landing
from pipelines.demo.org import Company

KIND = "roster"
_HEADER = ("engineer_id", "email", "name", "team", "cost_centre", "level", "title", "location")


def write(company: Company, landing: Landing) -> None:
    """`roster/roster.csv`, with the email as HR typed it (case may differ from the provider's)."""
    roster: list[tuple[object, ...]] = []
    for e in company.engs:
        team, cc, _ = TEAMS[e.team]
        name = f"{e.first.capitalize()} {e.last.capitalize()}"
        vt = e.valid_to.isoformat() if e.valid_to else ""
        head = (e.eid, e.roster_email, name, team, cc)
        if e.promo_date is not None and e.promo_to is not None:
            promo = e.promo_date.isoformat()
            roster.append((*head, e.level, TITLE_BY_LEVEL[e.level], e.location, e.valid_from.isoformat(), promo))
            roster.append((*head, e.promo_to, TITLE_BY_LEVEL[e.promo_to], e.location, promo, vt))
        else:
            roster.append((*head, e.level, TITLE_BY_LEVEL[e.level], e.location, e.valid_from.isoformat(), vt))
    landing.csv(f"{KIND}/roster.csv", (*_HEADER, "valid_from", "valid_to"), roster)
