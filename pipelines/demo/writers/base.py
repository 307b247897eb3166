"""What a demo writer receives and returns.

A source writer turns the finished simulation (`World`) into that source's files in its real format and,
for a provider's billed source, returns the bill it wrote (`Billed`), which the ground truth reports.
Writers never draw random numbers: the simulation has drawn everything, so writers can run in any order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from pipelines.demo.landing import Landing
from pipelines.demo.org import Company
from pipelines.demo.prices import PriceBook
from pipelines.demo.usage import Usage
from pipelines.demo.writers.claude_code_logs import SessionFiles


@dataclass(frozen=True)
class World:
    """The simulated company and everything it used: what every writer reads."""

    company: Company
    prices: PriceBook
    usage: Usage
    sessions: SessionFiles


@dataclass(frozen=True)
class Billed:
    """A provider's bill as its cost export states it: list and billed USD, and billed USD per day."""

    provider: str
    list_usd: Decimal
    billed_usd: Decimal
    by_day: dict[str, str]  # ISO day -> billed USD text


PageProgress = Callable[[int, int], None]
"""A page writer's progress: (pages written, pages in all)."""


@dataclass(frozen=True)
class SourceWriter:
    """How the demo lands one source: `write` its files (a billed source returns its `Billed`).

    `stage` is the progress stage its pages count toward (`tokencomp demo` prints one line per stage):
    the writers of one provider's API exports share one, and a page of days is done when all have written
    it. None: the writer reports no pages (Claude Code logs stream out during the simulation).
    """

    write: Callable[[World, Landing, PageProgress | None], Billed | None]
    stage: str | None = None


ReferenceWriter = Callable[[Company, Landing], None]
"""Writes one reference kind's file (roster, aliases, …) from the company."""
