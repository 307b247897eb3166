"""Writer of the `route_members` reference: the shared Anthropic keys, declared with their members."""

from __future__ import annotations

from pipelines.demo.landing import Landing
from pipelines.demo.org import Company

KIND = "route_members"


def write(company: Company, landing: Landing) -> None:
    """`route_members/route_members.csv`: one row per member of a shared key, over the member's employment."""
    members: list[tuple[object, ...]] = [
        ("anthropic", "api_key_id", key, e.eid, e.valid_from.isoformat(), e.valid_to or "")
        for key, engs in company.shared.items()
        for e in engs
    ]
    landing.csv(
        f"{KIND}/route_members.csv",
        ("provider", "principal_kind", "principal_id", "engineer_id", "valid_from", "valid_to"),
        members,
    )
