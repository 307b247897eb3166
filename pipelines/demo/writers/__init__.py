"""The demo's writers, one module per source and per reference kind, keyed by their stable ids.

Adding a source to the demo means adding one writer module here and one entry in `SOURCE_WRITERS`
(keyed by the source id of `../shared/DESIGN.md`, "Sources"), so the mapping can be checked against the
source registry. Reference writers are keyed by the `tokencomp reference load` kind. The demo has no seat
prices, invoices or FX rates: its sources bill tokens in USD only.
"""

from __future__ import annotations

from pipelines.demo.landing import Landing, ProgressFn
from pipelines.demo.writers import (
    aliases,
    anthropic_claude_code,
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
from pipelines.demo.writers.base import Billed, PageProgress, ReferenceWriter, SourceWriter, World

SOURCE_WRITERS: dict[str, SourceWriter] = {
    anthropic_usage.SOURCE: SourceWriter(anthropic_usage.write, stage="anthropic_exports"),
    anthropic_cost.SOURCE: SourceWriter(anthropic_cost.write, stage="anthropic_exports"),
    openai_usage.SOURCE: SourceWriter(openai_usage.write, stage="openai_exports"),
    openai_costs.SOURCE: SourceWriter(openai_costs.write, stage="openai_exports"),
    claude_code_logs.SOURCE: SourceWriter(claude_code_logs.write),
    anthropic_claude_code.SOURCE: SourceWriter(anthropic_claude_code.write),
}

REFERENCE_WRITERS: dict[str, ReferenceWriter] = {
    roster.KIND: roster.write,
    aliases.KIND: aliases.write,
    route_members.KIND: route_members.write,
    scopes.KIND: scopes.write,
    salaries.KIND: salaries.write,
}


def write_sources(world: World, landing: Landing, progress: ProgressFn | None = None) -> dict[str, Billed]:
    """Run every source writer; return the bills the billed sources wrote, keyed by provider.

    Progress: page p of a stage is reported once every writer of that stage has written it, so each
    stage reports its pages once (writers of one stage page the same window, so their totals agree).
    """
    members: dict[str, list[str]] = {}
    for source, writer in SOURCE_WRITERS.items():
        if writer.stage is not None:
            members.setdefault(writer.stage, []).append(source)
    written = dict.fromkeys(SOURCE_WRITERS, 0)
    reported = dict.fromkeys(members, 0)

    def pages(source: str, stage: str) -> PageProgress:
        def tick(done: int, total: int) -> None:
            written[source] = done
            low = min(written[s] for s in members[stage])
            if low > reported[stage]:
                reported[stage] = low
                if progress is not None:
                    progress(stage, low, total)

        return tick

    bills: dict[str, Billed] = {}
    for source, writer in SOURCE_WRITERS.items():
        billed = writer.write(world, landing, None if writer.stage is None else pages(source, writer.stage))
        if billed is not None:
            bills[billed.provider] = billed
    return bills


__all__ = [
    "REFERENCE_WRITERS",
    "SOURCE_WRITERS",
    "Billed",
    "PageProgress",
    "ReferenceWriter",
    "SourceWriter",
    "World",
    "write_sources",
]
