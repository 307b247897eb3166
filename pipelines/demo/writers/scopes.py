"""Writer of the `scopes` reference: Anthropic workspaces and OpenAI projects mapped to cost centres."""

from __future__ import annotations

from datetime import timedelta

from pipelines.demo.company import TEAMS
from pipelines.demo.landing import Landing
from pipelines.demo.org import Company

KIND = "scopes"


def write(company: Company, landing: Landing) -> None:
    """`scopes/scopes.csv`: each team's workspace and project, the default workspace and the CI project."""
    scopes: list[tuple[object, ...]] = []
    since = (company.window.start - timedelta(days=900)).isoformat()
    for (team, cc, _), ws in zip(TEAMS, company.workspaces, strict=True):
        if ws:
            scopes.append(("anthropic", "workspace", ws, team, cc, since, ""))
    scopes.append(("anthropic", "workspace", "default", "Default Workspace", TEAMS[0][1], since, ""))
    for (team, cc, _), proj in zip(TEAMS, company.projects, strict=True):
        scopes.append(("openai", "project", proj, f"{team.lower().replace(' ', '-')}", cc, since, ""))
    scopes.append(("openai", "project", company.ci_project, "ci-services", TEAMS[0][1], since, ""))
    landing.csv(
        f"{KIND}/scopes.csv",
        ("provider", "scope_kind", "scope_id", "name", "cost_centre", "valid_from", "valid_to"),
        scopes,
    )
