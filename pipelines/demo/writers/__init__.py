"""The demo's writers, one module per source and per reference kind, keyed by their stable ids.

Adding a source to the demo means adding one writer module here and one entry in `SOURCE_WRITERS`
(keyed by the source id of `../shared/DESIGN.md`, "Sources"), so the mapping can be checked against the
source registry. Reference writers are keyed by the `tokencomp reference load` kind. The demo has no seat
prices, invoices or FX rates: its sources bill tokens in USD only.
"""

from __future__ import annotations

from pipelines.demo.writers import (
    aliases,
    anthropic_cost,
    anthropic_usage,
    claude_code_logs,
    openai_costs,
    openai_usage,
    roster,
    route_members,
    salaries,
    scopes,
)
from pipelines.demo.writers.base import Billed, ReferenceWriter, SourceWriter, World

SOURCE_WRITERS: dict[str, SourceWriter] = {
    anthropic_usage.SOURCE: anthropic_usage.write,
    anthropic_cost.SOURCE: anthropic_cost.write,
    openai_usage.SOURCE: openai_usage.write,
    openai_costs.SOURCE: openai_costs.write,
    claude_code_logs.SOURCE: claude_code_logs.write,
}

REFERENCE_WRITERS: dict[str, ReferenceWriter] = {
    roster.KIND: roster.write,
    aliases.KIND: aliases.write,
    route_members.KIND: route_members.write,
    scopes.KIND: scopes.write,
    salaries.KIND: salaries.write,
}

__all__ = ["REFERENCE_WRITERS", "SOURCE_WRITERS", "Billed", "ReferenceWriter", "SourceWriter", "World"]
